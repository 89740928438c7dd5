from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "closeloop.cases"
    label = "cases"

    def ready(self) -> None:
        # The worker (and `closeloop tick`) fires due escalations with the other periodic work.
        from closeloop.cases.escalation import escalate_due
        from closeloop.worker import register_step

        register_step("escalations", escalate_due)
