from django.contrib import admin

from closeloop.cases.models import CaseTemplate, EscalationPolicy


@admin.register(CaseTemplate)
class CaseTemplateAdmin(admin.ModelAdmin):
    list_display = ["key", "category", "calendar", "escalation"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["key"]
