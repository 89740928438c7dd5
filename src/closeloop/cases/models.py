"""Case templates and escalation policies, as the configuration file defines them."""

from __future__ import annotations

from django.db import models


class CaseTemplate(models.Model):
    key = models.CharField(max_length=100, unique=True)
    category = models.CharField(max_length=200)
    statuses = models.JSONField(help_text="First is the initial status, last the closed one")
    team = models.JSONField(default=dict, blank=True, help_text="managers / members selectors")
    sla = models.JSONField(default=dict, blank=True, help_text="Tier -> severity and closure goal (seconds)")
    calendar = models.CharField(max_length=100, blank=True)
    notify_on = models.JSONField(default=list, blank=True)
    escalation = models.CharField(max_length=100, blank=True, help_text="Escalation policy key")

    def __str__(self) -> str:
        return self.key


class EscalationPolicy(models.Model):
    key = models.CharField(max_length=100, unique=True)
    steps = models.JSONField(default=list, help_text="[{when, after (seconds), notify}]")

    class Meta:
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.key
