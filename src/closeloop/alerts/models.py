"""Detection rules (stored as data) and the alerts they raise."""

from __future__ import annotations

from django.db import models

from closeloop.core.vocabulary import ALERT_KINDS, SEVERITIES

KIND_CHOICES = [(kind, kind) for kind in ALERT_KINDS]
SEVERITY_CHOICES = [(severity, severity) for severity in SEVERITIES]


class Rule(models.Model):
    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    survey = models.ForeignKey("feedback.Survey", null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    when = models.JSONField(help_text="Condition tree: all / any / not with leaves")
    category = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES, default="normal")
    notify = models.JSONField(default=dict, blank=True)
    open_case = models.CharField(max_length=100, blank=True, help_text="Case template key")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key


class Alert(models.Model):
    class Mode(models.TextChoices):
        IMMEDIATE = "immediate"
        DIGEST = "digest"

    response = models.ForeignKey("feedback.Response", on_delete=models.CASCADE, related_name="alerts")
    # The rule's key is kept even if the rule is later removed from the configuration.
    rule_key = models.CharField(max_length=100)
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    severity = models.CharField(max_length=10, choices=SEVERITY_CHOICES)
    category = models.CharField(max_length=200)
    unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    repeat = models.BooleanField(default=False, help_text="The customer had a recovery alert in the repeat window")
    # The customer's latest earlier response with a recovery alert in the window, for a repeat failure.
    repeat_of = models.ForeignKey(
        "feedback.Response", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["response", "rule_key"], name="alert_once_per_rule")]
        indexes = [
            models.Index(fields=["kind", "created_at"]),
            models.Index(fields=["unit", "created_at"]),
            # The repeat-failure lookup asks, per earlier response of a customer, whether it had a recovery alert.
            models.Index(fields=["response", "kind"], name="alert_response_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.rule_key} on {self.response_id}"
