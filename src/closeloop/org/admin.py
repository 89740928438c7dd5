from django.contrib import admin

from closeloop.org.models import Calendar, Organization, Person, Role, Segment, Unit


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
