"""Digest schedules, as the configuration file defines them."""

from __future__ import annotations

from django.db import models


class Digest(models.Model):
    class WhenEmpty(models.TextChoices):
        SKIP = "skip"
        SEND = "send"

    key = models.CharField(max_length=100, unique=True)
    units = models.JSONField(default=list, help_text="Unit codes; each gets its own digest")
    at = models.TimeField(help_text="Local time of the unit")
    window = models.DurationField()
    to = models.JSONField(default=list)
    sms = models.BooleanField(default=True)
    email_pdf = models.BooleanField(default=True)
    weekend_sms = models.BooleanField(default=True)
    when_empty = models.CharField(max_length=10, choices=WhenEmpty.choices, default=WhenEmpty.SKIP)

    def __str__(self) -> str:
        return self.key
