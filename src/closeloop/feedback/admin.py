from django.contrib import admin

from closeloop.feedback.models import Customer, Question, Response, Survey


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "overall", "active"]
    inlines = [QuestionInline]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "tier", "contact_ok"]
    search_fields = ["external_id", "name", "email"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "survey",
        "external_id",
        "submitted_at",
        "unit",
        "ticket",
        "overall",
        "status",
        "needs_recovery",
    ]
    list_filter = ["status", "needs_recovery", "survey", "source"]
    search_fields = ["external_id", "ticket", "customer__name"]
    list_select_related = ["survey", "unit"]
    raw_id_fields = ["customer", "superseded_by", "agent"]
    date_hierarchy = "submitted_at"
