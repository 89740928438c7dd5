from django.contrib import admin

from closeloop.alerts.models import Alert, Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "survey", "category", "severity", "open_case"]
    list_filter = ["kind"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "rule_key", "severity", "category", "unit", "repeat", "mode", "created_at"]
    list_filter = ["kind", "severity", "mode", "repeat"]
    raw_id_fields = ["response"]
    list_select_related = ["unit"]
