from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from closeloop.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Review and revoke tokens; they are created with `closeloop token create`, which shows the secret once."""

    list_display = ["name", "hint", "scopes", "person", "units", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "hint", "person__key"]
    list_select_related = ["person"]
    fields = ["name", "hint", "scopes", "person", "units", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "hint", "scopes", "person", "units", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
