from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "closeloop.reports"
    label = "reports"

    def ready(self) -> None:
        # The worker (and `closeloop tick`) runs due daily digests with the other periodic work.
        from closeloop.reports.digests import run_due_digests
        from closeloop.worker import register_step

        register_step("digests", run_due_digests)
