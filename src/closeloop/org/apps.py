from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _configuration_changed(sender: type, **kwargs: object) -> None:
    from closeloop.org.snapshot import stamp

    stamp()


class OrgConfig(AppConfig):
    name = "closeloop.org"
    label = "org"

    def ready(self) -> None:
        # Any change to a configuration row, however it is made, invalidates every process's
        # configuration snapshot (closeloop.org.snapshot).
        for label in (
            "org.Organization",
            "org.Calendar",
            "org.Unit",
            "org.Segment",
            "org.Person",
            "org.Role",
            "feedback.Survey",
            "feedback.Question",
            "alerts.Rule",
            "notify.WebhookEndpoint",
            "cases.CaseTemplate",
            "cases.EscalationPolicy",
            "reports.Digest",
        ):
            model = self.apps.get_model(label)
            post_save.connect(_configuration_changed, sender=model, dispatch_uid=f"config-stamp-save-{label}")
            post_delete.connect(_configuration_changed, sender=model, dispatch_uid=f"config-stamp-delete-{label}")
