from django.contrib import admin
from django.http import HttpRequest

from closeloop.reports.models import Digest, DigestRun, DigestSchedule, Summary, SummaryRun, SummarySchedule


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["key", "at", "window", "sms", "email_pdf", "weekend_sms", "when_empty"]


@admin.register(DigestSchedule)
class DigestScheduleAdmin(admin.ModelAdmin):
    """Read-only: the worker keeps these in step with the configuration."""

    list_display = ["digest", "unit", "at", "time_zone", "next_run_at"]
    list_select_related = ["digest", "unit"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DigestRun)
class DigestRunAdmin(admin.ModelAdmin):
    """Read-only history of what each digest reported; its messages are in the outbox (topic `digest`)."""

    list_display = ["digest", "unit", "run_at", "window_start", "window_end", "status", "responses"]
    list_filter = ["status", "digest"]
    list_select_related = ["digest", "unit"]
    date_hierarchy = "run_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ["key", "day", "at", "themes"]


@admin.register(SummarySchedule)
class SummaryScheduleAdmin(admin.ModelAdmin):
    """Read-only: the worker keeps these in step with the configuration."""

    list_display = ["summary", "unit", "day", "at", "time_zone", "next_run_at"]
    list_select_related = ["summary", "unit"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SummaryRun)
class SummaryRunAdmin(admin.ModelAdmin):
    """Read-only history of the weekly summaries; their emails are in the outbox (topic `summary`)."""

    list_display = ["summary", "unit", "run_at", "date_from", "date_to", "responses", "recipients"]
    list_filter = ["summary"]
    list_select_related = ["summary", "unit"]
    date_hierarchy = "run_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
