from django.apps import AppConfig

from closeloop.org.stamp import stamp_on_change


class CasesConfig(AppConfig):
    name = "closeloop.cases"
    label = "cases"

    def ready(self) -> None:
        # A change to any of these rows makes every process's configuration views stale.
        stamp_on_change(self, ["CaseTemplate", "EscalationPolicy"])
