from django.contrib import admin
from django.http import HttpRequest

from closeloop.cases.models import Case, CaseEvent, CaseTemplate, EscalationPolicy


@admin.register(CaseTemplate)
class CaseTemplateAdmin(admin.ModelAdmin):
    list_display = ["key", "category", "calendar", "escalation"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["key"]


class CaseEventInline(admin.TabularInline):
    """The timeline, shown read-only: events are never edited or deleted."""

    model = CaseEvent
    extra = 0
    fields = ["at", "type", "actor", "actor_name", "data"]
    readonly_fields = ["at", "type", "actor", "actor_name", "data"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """For looking; changes go through the services (API or UI) so they land in the timeline."""

    list_display = ["id", "category", "unit", "severity", "status", "state", "opened_at", "due_at", "escalation_level"]
    list_filter = ["state", "severity", "template_key"]
    search_fields = ["category", "response__ticket", "unit__code"]
    readonly_fields = [field.name for field in Case._meta.concrete_fields] + ["managers", "members"]
    inlines = [CaseEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
