from django.apps import AppConfig
from django.db.models.signals import post_migrate

from closeloop.org.stamp import stamp_on_change
from closeloop.org.statistics import after_migrate


class OrgConfig(AppConfig):
    name = "closeloop.org"
    label = "org"

    def ready(self) -> None:
        # A change to any of these rows makes every process's configuration views stale.
        stamp_on_change(self, ["Organization", "Calendar", "Unit", "Segment", "Person", "Role"])
        # Planner statistics once the schema is in place (closeloop.org.statistics says why).
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="closeloop-refresh-statistics")
