from django.apps import AppConfig

from closeloop.org.stamp import stamp_on_change


class ReportsConfig(AppConfig):
    name = "closeloop.reports"
    label = "reports"

    def ready(self) -> None:
        # A change to any of these rows makes every process's configuration views stale.
        stamp_on_change(self, ["Digest"])
