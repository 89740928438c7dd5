"""Case templates and escalation policies, as the configuration file defines them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


class CaseTemplate(models.Model):
    key = models.CharField(max_length=100, unique=True)
    category = models.CharField(max_length=200)
    statuses = models.JSONField(help_text="First is the initial status, last the closed one")
    # Statuses written `{name: Contacted, contacted: true}`: moving a case there means the customer was reached.
    contacted_statuses = models.JSONField(default=list, blank=True)
    root_causes = models.JSONField(default=list, blank=True, help_text="What a case closed from it can be put down to")
    team = models.JSONField(default=dict, blank=True, help_text="managers / members selectors")
    sla = models.JSONField(default=dict, blank=True, help_text="Tier -> severity and closure goal (seconds)")
    calendar = models.CharField(max_length=100, blank=True)
    notify_on = models.JSONField(default=list, blank=True)
    escalation = models.CharField(max_length=100, blank=True, help_text="Escalation policy key")
    auto_close_on_recovered = models.BooleanField(
        default=False, help_text="Close the case when a resubmission no longer needs recovery"
    )

    def __str__(self) -> str:
        return self.key


class EscalationPolicy(models.Model):
    key = models.CharField(max_length=100, unique=True)
    steps = models.JSONField(default=list, help_text="[{when, after (seconds), notify}]")

    class Meta:
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.key


class Case(models.Model):
    """One customer's problem being put right: opened from a recovery alert, closed by a case manager.

    The SLA, the statuses, the team selectors and the escalation steps are copied from the template when
    the case opens, so editing the configuration later does not rewrite cases already running.
    """

    class State(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"

    class Resolution(models.TextChoices):
        RESOLVED = "resolved"
        UNRESOLVED = "unresolved"

    # One case per response: the unique constraint below is what makes replays and concurrent posts safe.
    response = models.ForeignKey("feedback.Response", on_delete=models.PROTECT, related_name="cases")
    template_key = models.CharField(max_length=100)
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="cases")
    category = models.CharField(max_length=200)
    severity = models.CharField(max_length=10)
    tier = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    owner = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="owned_cases")
    managers = models.ManyToManyField("org.Person", blank=True, related_name="managed_cases")
    members = models.ManyToManyField("org.Person", blank=True, related_name="member_cases")
    viewed_at = models.DateTimeField(null=True, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, null=True, blank=True)
    # Given when closing: one of the template's root causes, and what was done for the customer.
    root_cause = models.CharField(max_length=200, blank=True)
    action_taken = models.TextField(blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # When a resubmission for the same ticket showed the customer satisfied: pending escalations stop.
    satisfied_at = models.DateTimeField(null=True, blank=True)
    # The same customer's earlier case when this one is a repeat failure within the repeat window.
    previous_case = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeat_cases"
    )
    # Snapshots taken at opening.
    statuses = models.JSONField(default=list)
    contacted_statuses = models.JSONField(default=list, blank=True)
    auto_close_on_recovered = models.BooleanField(default=False)
    team = models.JSONField(default=dict, blank=True, help_text="managers / members selectors")
    notify_on = models.JSONField(default=list, blank=True)
    calendar = models.CharField(max_length=100, blank=True)
    sla = models.JSONField(default=dict, blank=True, help_text="The tier's severity and closure goal (seconds)")
    escalation_steps = models.JSONField(default=list, blank=True)
    fired_steps = models.JSONField(default=list, blank=True, help_text="Indexes of escalation steps that fired")
    # When the next escalation step can fire; null when none ever will. The worker reads only due rows.
    next_escalation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["response"], name="case_one_per_response")]
        indexes = [
            models.Index(fields=["next_escalation_at"], name="case_next_escalation"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(fields=["unit", "opened_at"], name="case_unit_opened"),
            # The monitor's "contacted today": a day's contacts among every case, found without a scan.
            models.Index(fields=["contacted_at"], name="case_contacted"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} ({self.category})"

    @property
    def closed_status(self) -> str:
        return self.statuses[-1] if self.statuses else "Closed"


class AppendOnlyError(Exception):
    """Case events are a timeline: corrections are new events, never edits or deletions."""


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("case events cannot be changed")

    def redact(self, data_by_event: Mapping[int, dict[str, Any]]) -> int:
        """The one change an event allows, once: replacing a customer's words with their erased form when the
        customer's data is erased. The database triggers allow this and nothing else (migration 0004)."""
        changed = 0
        for pk, data in data_by_event.items():
            changed += models.QuerySet.update(self.filter(pk=pk, redacted=False), data=data, redacted=True)
        return changed

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("case events cannot be deleted")


class CaseEvent(models.Model):
    class Type(models.TextChoices):
        OPENED = "opened"
        VIEWED = "viewed"
        NOTE = "note"
        STATUS = "status"
        ASSIGNED = "assigned"
        ESCALATED = "escalated"
        NOTIFIED = "notified"
        CLOSED = "closed"
        REOPENED = "reopened"
        MOVED = "moved"
        SATISFIED = "satisfied"
        TEAM_CHANGED = "team_changed"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    type = models.CharField(max_length=20, choices=Type.choices)
    actor = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Set, once, when the customer's data was erased: the customer's words in `data` are replaced.
    redacted = models.BooleanField(default=False)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "type"], name="caseevent_case_type")]

    def __str__(self) -> str:
        return f"{self.type} on case {self.case_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("case events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("case events cannot be deleted")

    @property
    def byline(self) -> str:
        """Who wrote a note, as every surface shows it: "Erin Diaz", or "Erin Diaz (on behalf of Pat)" when
        the writer gave another name (cases.services.note_authorship)."""
        data = self.data or {}
        author = str(data.get("author") or self.actor_name or "")
        on_behalf_of = str(data.get("on_behalf_of") or "")
        return f"{author} (on behalf of {on_behalf_of})" if on_behalf_of else author


class EscalationNotice(models.Model):
    """A person an escalation step reached about a case: they may open it and act on it from then on, and
    their monitor lists it with the level and the reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalation_notices")
    person = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="escalation_notices")
    step = models.PositiveSmallIntegerField(help_text="The step's index in the case's policy")
    when = models.CharField(max_length=30, help_text="The step's trigger: not_viewed, not_contacted, ...")
    level = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The person's own level; null: named")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "person", "step"], name="escalation_notice_once")]
        indexes = [models.Index(fields=["person", "case"], name="escalation_notice_person")]

    def __str__(self) -> str:
        return f"case {self.case_id} escalated to {self.person_id} ({self.when})"
