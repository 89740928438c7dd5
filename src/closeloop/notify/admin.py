"""The outbox in the admin: every message, its status and why it failed; failed ones can be retried."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from closeloop.notify.backlog import backlog
from closeloop.notify.models import Delivery, DeliveryAttempt, WebhookEndpoint
from closeloop.notify.outbox import retry_now
from closeloop.org.admin import PersonAdmin
from closeloop.org.models import Person


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeliveryAttemptInline(_ReadOnlyInline):
    """Every attempt of the delivery, oldest first: when, what came of it, the error."""

    model = DeliveryAttempt
    fields = ("number", "at", "outcome", "error", "provider_id")
    readonly_fields = fields


class FailedSmsInline(_ReadOnlyInline):
    """Text messages to this person that could never be delivered (they were emailed instead)."""

    model = Delivery
    fk_name = "person"
    verbose_name = "text message that could not be delivered"
    verbose_name_plural = "text messages that could not be delivered (sent by email instead)"
    fields = ("created_at", "address", "subject", "last_error")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return (
            super()
            .get_queryset(request)
            .filter(channel="sms", attempt_log__outcome=DeliveryAttempt.Outcome.PERMANENT)
            .distinct()
            .order_by("-created_at")
        )


# The person's page in the admin shows their undeliverable text messages: the phone number needs fixing.
admin.site.unregister(Person)


@admin.register(Person)
class PersonWithDeliveriesAdmin(PersonAdmin):
    inlines = [*PersonAdmin.inlines, FailedSmsInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "topic", "channel", "person", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel", "topic"]
    search_fields = ["idempotency_key", "ref", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["person"]
    actions = ["send_again"]
    inlines = [DeliveryAttemptInline]

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
