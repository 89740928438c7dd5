"""What the `/hooks/<key>` endpoints receive: the configured sources, a record of every request, and the
requests that could not be read, kept whole so they can be replayed once the mapping is fixed."""

from __future__ import annotations

import json
from typing import Any

from django.db import models


class Source(models.Model):
    """One entry of the configuration's `sources:` section; `spec` is the entry as the file wrote it."""

    key = models.CharField(max_length=100, unique=True)
    tool = models.CharField(max_length=50)
    survey = models.CharField(max_length=100, help_text="Key of the survey its responses go to")
    # JSON text, not a JSON column: PostgreSQL's jsonb would sort the keys, and the map's order is the order
    # its problems are listed in and the order `config export` writes it back in.
    spec = models.TextField(help_text="The entry as written in the configuration file, as JSON")
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="False once removed from the configuration")

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key

    @property
    def entry(self) -> dict[str, Any]:
        """The entry as written in the configuration file."""
        data: dict[str, Any] = json.loads(self.spec)
        return data

    @property
    def label(self) -> str:
        """What responses from this source record as their `source`."""
        return f"hook:{self.key}"


class HookDelivery(models.Model):
    """One request to a source's endpoint (or one replay of a dead letter). Never holds the body."""

    class Outcome(models.TextChoices):
        STORED = "stored"  # the event's responses were ingested
        DUPLICATE = "duplicate"  # the same event was stored before: nothing changed
        IGNORED = "ignored"  # an event closeloop does not use
        REFUSED = "refused"  # signature, token or timestamp not right
        UNREADABLE = "unreadable"  # authentic, but the body cannot be read: kept as a dead letter
        FETCH_FAILED = "fetch_failed"  # the tool's API did not give the response
        UNAVAILABLE = "unavailable"  # the secret cannot be read on this server

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="deliveries")
    received_at = models.DateTimeField()
    event_id = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    problem = models.TextField(blank=True, help_text="Why it was refused, ignored or unreadable")
    responses = models.JSONField(default=list, blank=True, help_text="Ids of the responses it stored or named")
    replay = models.BooleanField(default=False, help_text="A dead letter sent again from the admin")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "hook deliveries"
        constraints = [
            # One stored delivery per event: the claim that makes a retried or simultaneous delivery a no-op.
            models.UniqueConstraint(
                fields=["source", "event_id"],
                condition=models.Q(outcome="stored"),
                name="hookdelivery_one_stored_per_event",
            ),
        ]
        indexes = [models.Index(fields=["source", "received_at"])]

    def __str__(self) -> str:
        return f"{self.source.key} {self.outcome} {self.event_id}"


class DeadLetter(models.Model):
    """An authentic request whose body could not be turned into responses, kept whole for a replay."""

    class State(models.TextChoices):
        WAITING = "waiting"
        REPLAYED = "replayed"  # a replay stored its responses (or found them stored)
        IGNORED = "ignored"  # a replay found an event closeloop does not use

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="dead_letters")
    received_at = models.DateTimeField()
    method = models.CharField(max_length=10, default="POST")
    headers = models.JSONField(default=dict)
    query = models.JSONField(default=dict, blank=True)
    body = models.BinaryField()
    reason = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    replays = models.PositiveIntegerField(default=0)
    replayed_at = models.DateTimeField(null=True, blank=True)
    last_problem = models.TextField(blank=True, help_text="Why the last replay did not store it")
    responses = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["source", "state", "received_at"])]

    def __str__(self) -> str:
        return f"{self.source.key} {self.received_at:%Y-%m-%d %H:%M} {self.state}"
