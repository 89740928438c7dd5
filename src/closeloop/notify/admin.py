"""The outbox in the admin: every message, its status and why it failed; failed ones can be retried."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from closeloop.notify.backlog import backlog
from closeloop.notify.models import Delivery, WebhookEndpoint
from closeloop.notify.outbox import retry_now


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "topic", "channel", "person", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel", "topic"]
    search_fields = ["idempotency_key", "ref", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["person"]
    actions = ["send_again"]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        now = timezone.now()
        # The backlog heads the list: how many messages wait, and since when (an outage shows here first).
        return super().changelist_view(request, {**(extra_context or {}), "backlog": backlog(now), "now": now})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Viewable, never edited or deleted: the outbox is the record of what was said to whom.
    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    @admin.action(description="Send again now (failed or waiting deliveries)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = retry_now(queryset, timezone.now())
        self.message_user(request, f"{count} deliveries will be sent again.", messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["key", "url", "active"]
    list_filter = ["active"]
    search_fields = ["key", "url"]
