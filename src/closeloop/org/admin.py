from django.contrib import admin
from django.http import HttpRequest

from closeloop.org.models import Calendar, ConfigChange, Organization, Person, Role, Segment, Unit


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "recovery_threshold"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "time_zone", "calendar"]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "calendar"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "email", "phone", "login", "active"]
    list_filter = ["active", "login"]
    search_fields = ["key", "name", "email"]
    inlines = [RoleInline]


admin.site.register(Calendar)
admin.site.register(Segment)


@admin.register(ConfigChange)
class ConfigChangeAdmin(admin.ModelAdmin):
    """The log of configuration changes, for looking: it is only ever appended to."""

    list_display = ["at", "source", "actor_name", "summary"]
    list_filter = ["source"]
    readonly_fields = ["at", "source", "actor", "actor_name", "summary", "lines", "changes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
