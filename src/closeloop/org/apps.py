from django.apps import AppConfig

from closeloop.org.stamp import stamp_on_change


class OrgConfig(AppConfig):
    name = "closeloop.org"
    label = "org"

    def ready(self) -> None:
        # A change to any of these rows makes every process's configuration views stale.
        stamp_on_change(self, ["Organization", "Calendar", "Unit", "Segment", "Person", "Role"])
