from django.apps import AppConfig

from closeloop.org.stamp import stamp_on_change


class IntakeConfig(AppConfig):
    name = "closeloop.intake"
    label = "intake"
    verbose_name = "Receiving from survey tools"

    def ready(self) -> None:
        # A change to a source makes every process's view of the sources stale.
        stamp_on_change(self, ["Source"])
