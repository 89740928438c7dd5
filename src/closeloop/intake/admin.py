"""Sources, their deliveries and dead letters in the admin, read-only: the configuration file owns the
sources, and the record of what arrived is history. Replays and test payloads are on the Sources page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from closeloop.intake.models import DeadLetter, HookDelivery, Source


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(ReadOnly):
    list_display = ["key", "tool", "survey", "active"]
    list_filter = ["tool", "active"]
    search_fields = ["key", "survey"]
    # The entry may hold an inline secret: the admin lists sources, it does not show their specs.
    exclude = ["spec"]


@admin.register(HookDelivery)
class HookDeliveryAdmin(ReadOnly):
    list_display = ["received_at", "source", "outcome", "status_code", "event_id", "problem", "replay"]
    list_filter = ["outcome", "source"]
    search_fields = ["event_id", "problem"]
    date_hierarchy = "received_at"
    list_select_related = ["source"]


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnly):
    list_display = ["received_at", "source", "state", "reason", "replays", "replayed_at"]
    list_filter = ["state", "source"]
    date_hierarchy = "received_at"
    list_select_related = ["source"]
    exclude = ["body"]
