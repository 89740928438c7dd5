"""The outbox: one Delivery row per message, claimed and sent by the worker."""

from __future__ import annotations

from typing import Any

from django.db import models

from closeloop.core.vocabulary import SEVERITIES, Severity

# Claimed first when several deliveries are due: 0 for urgent, 1 high, 2 normal, 3 low.
PRIORITY_OF_SEVERITY = {severity: rank for rank, severity in enumerate(reversed(SEVERITIES))}
DEFAULT_PRIORITY = PRIORITY_OF_SEVERITY[Severity.NORMAL]


def priority_of(severity: str | None) -> int:
    return PRIORITY_OF_SEVERITY.get(severity or "", DEFAULT_PRIORITY)


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"

    # What the message is about; `topic` also covers messages without an alert
    # (case events, digests, follow-ups), whose rows are linked through `ref`.
    topic = models.CharField(max_length=30, default="alert")
    alert = models.ForeignKey(
        "alerts.Alert", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Every alert the message tells about: one message per person and response can cover several alerts
    # (its `alert` is the one it leads with). An alert's recipients are the deliveries listed here.
    alerts = models.ManyToManyField("alerts.Alert", blank=True, related_name="messages")
    ref = models.CharField(max_length=100, blank=True, db_index=True)
    person = models.ForeignKey(
        "org.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    channel = models.CharField(max_length=30)
    address = models.CharField(max_length=1000, blank=True, help_text="Email, phone, URL or endpoint key")
    subject = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    priority = models.PositiveSmallIntegerField(
        default=DEFAULT_PRIORITY, help_text="0 urgent, 1 high, 2 normal, 3 low: the most severe due ones go first"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First temporary failure of the current run of retries"
    )
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The worker's query: only rows that can still be sent are in this index.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="delivery_due",
            ),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address} ({self.status})"


class WebhookEndpoint(models.Model):
    """An HTTP endpoint that receives alerts as signed JSON (Standard Webhooks)."""

    key = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=200, help_text="whsec_ + base64, as Standard Webhooks defines")
    kinds = models.JSONField(default=list, blank=True, help_text="Alert kinds sent; empty: all")
    events = models.JSONField(default=list, blank=True, help_text="alert.created, case.opened, ...; empty: alerts only")
    units = models.JSONField(default=list, blank=True, help_text="Unit codes (with subtrees); empty: all")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.key


class AppendOnlyAttemptError(Exception):
    """Delivery attempts are history: they are added, never changed."""


class DeliveryAttemptQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyAttemptError("delivery attempts cannot be changed")


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: when, what came of it and why. The delivery keeps only its latest
    state; this table keeps every attempt (rows go only with their delivery)."""

    class Outcome(models.TextChoices):
        SENT = "sent", "Accepted by the provider"
        TEMPORARY = "temporary", "Failed, worth trying again"
        PERMANENT = "permanent", "Failed, trying again cannot help"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(help_text="1 for the first attempt")
    at = models.DateTimeField(help_text="When the attempt ended: the provider accepted or refused the message")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=300, blank=True)

    objects = DeliveryAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["delivery", "number", "id"]
        indexes = [models.Index(fields=["delivery", "number"], name="deliveryattempt_delivery")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyAttemptError("delivery attempts cannot be changed")
        super().save(*args, **kwargs)
