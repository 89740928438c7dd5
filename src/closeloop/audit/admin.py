from django.contrib import admin
from django.http import HttpRequest

from closeloop.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is evidence, so nobody edits or deletes it, not even an admin."""

    list_display = ["at", "action", "target", "actor_name"]
    list_filter = ["action"]
    search_fields = ["target", "actor_name"]
    readonly_fields = ["at", "action", "target", "actor", "actor_name", "detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
