"""The audit log: who looked at, exported, erased or changed a customer's data, and when. Append-only."""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditLogError(Exception):
    """The audit log was asked to change or forget an entry."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogError("audit events cannot be deleted")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEWED = "viewed"  # a page, API answer, PDF or export showed the customer's data
        EXPORTED = "exported"  # everything about a customer was exported (`closeloop customer export`)
        ERASED = "erased"  # a customer's personal data was erased (`closeloop customer erase`)
        CONTACT_CHANGED = "contact_changed"  # a customer's name, email, phone or consent changed

    at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # What was touched, as "response:12", "case:3", "customer:C-77" or "report:SUP-EMEA:2026-11-23".
    target = models.CharField(max_length=200, db_index=True)
    actor = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Who, in words: a person's name, "token crm", "command line".
    actor_name = models.CharField(max_length=200, blank=True)
    # Where it was seen (web, api, pdf, csv, cli) and what changed, never the customer's data itself.
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target} by {self.actor_name or 'closeloop'} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogError("audit events cannot be deleted")
