from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "closeloop.audit"
    label = "audit"
    verbose_name = "Audit log: who viewed, exported or erased customers' data"
