"""The organisation: a tree of units, the people in it and their roles.

Rows here are written by `closeloop config apply` (closeloop.config) and keyed by
the stable ids of the configuration file (`Unit.code`, `Person.key`, ...).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """The single organisation this instance serves (one row, pk=1)."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC")
    ticket_url = models.CharField(max_length=500, blank=True, help_text="Pattern with {ticket}")
    recovery_threshold = models.FloatField(default=6)
    # How far back an earlier recovery alert makes a new one a repeat failure.
    repeat_window = models.DurationField(default=timedelta(days=90))
    # A response submitted longer ago than this when it arrives is historic: stored, evaluated and counted,
    # but it sends no alert and opens no case (a year of history imported on day one must not page people).
    alert_max_age = models.DurationField(default=timedelta(days=7))
    # Where the age applies: imported files only (the default; a post through the API or a survey tool's
    # webhook always alerts, as the contract promises), or every way in.
    alert_max_age_for = models.CharField(max_length=20, default="files")
    # Quarantine responses that come without a segment (when segments are configured). Off by
    # default: the contract makes only an unknown segment invalid.
    segment_required = models.BooleanField(default=False)
    # When the built-in threshold rule stands aside: when any configured rule matched (the
    # contract), or only when a configured recovery rule did.
    threshold_unless = models.CharField(max_length=20, default="any_rule")
    follow_up_after = models.DurationField(null=True, blank=True)
    follow_up_survey = models.CharField(max_length=100, blank=True)
    # Hosts whose https addresses an `audio_url` from the API or a file may link to (core.hosts); a source
    # of `/hooks/<key>` may have its own list.
    audio_hosts = models.JSONField(default=list, blank=True)
    # The configuration's `text_model.examples`: {"unhappy": [...], "praise": [...]}, the organisation's
    # own sentences the text model compares customers' words with, beside its built-in ones.
    text_examples = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> Organization:
        return cls.objects.filter(pk=1).first() or cls(pk=1, name="closeloop")

    def ticket_link(self, ticket: str) -> str:
        if not (self.ticket_url and ticket):
            return ""
        return self.ticket_url.replace("{ticket}", quote(ticket, safe=""))


class Calendar(models.Model):
    """Business hours used to count SLA goals in working time."""

    key = models.CharField(max_length=100, unique=True)
    days = models.JSONField(default=list, help_text="Weekday names: mon..sun")
    start = models.TimeField()
    end = models.TimeField()
    holidays = models.CharField(max_length=20, blank=True, help_text="Country code for public holidays")

    def __str__(self) -> str:
        return self.key


class Unit(models.Model):
    """A node of the organisation tree (company, region, store, support group...)."""

    code = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path "/ROOT/CHILD/" so a subtree is one indexed prefix query.
    path = models.CharField(max_length=1000, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: inherited")
    calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"

    def subtree(self) -> models.QuerySet[Unit]:
        return Unit.objects.filter(path__startswith=self.path)


class Segment(models.Model):
    """A customer segment code; when any exist, responses must name one of them."""

    code = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.code


class Person(models.Model):
    key = models.CharField(max_length=100, unique=True, help_text="The id in the configuration file")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    chat_url = models.CharField(max_length=500, blank=True, help_text="An Apprise URL, e.g. Slack or Teams")
    login = models.BooleanField(default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    active = models.BooleanField(default=True, help_text="False once removed from the configuration")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    class Kind(models.TextChoices):
        LEAD = "lead"
        ALSO_ALERT = "also_alert"
        MEMBER = "member"
        ADMIN = "admin"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="roles")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "unit", "role"], name="role_unique")]
        indexes = [models.Index(fields=["unit", "role"])]

    def __str__(self) -> str:
        return f"{self.person.key} {self.role} of {self.unit.code}"


class ConfigStamp(models.Model):
    """A token that changes with every configuration change, so each process knows when its
    cached views of the configuration (closeloop.org.stamp) are stale."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


class ConfigChangeQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyConfigLog("configuration changes are a log: they cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyConfigLog("configuration changes are a log: they cannot be deleted")


class AppendOnlyConfigLog(Exception):
    """The log of configuration changes is only ever appended to."""


class ConfigChange(models.Model):
    """One applied change to the configuration: who, when, from where, and the plan's lines.

    Written by `closeloop config apply` (source "file") and by the settings pages (source "settings"), so
    `config apply` can say which changes made in the product since the file was last applied it is about
    to overwrite. Append-only.
    """

    class Source(models.TextChoices):
        FILE = "file"
        SETTINGS = "settings"

    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    actor = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField(max_length=200, blank=True, help_text="Who, also when no person is behind it")
    summary = models.CharField(max_length=300, blank=True, help_text="What was changed, in words")
    lines = models.JSONField(default=list, help_text="The applied plan, as `config apply` prints it")
    changes = models.JSONField(default=list, help_text="[{section, key, action, fields}]")

    objects = ConfigChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["source", "at"], name="configchange_source_at")]

    def __str__(self) -> str:
        return f"{self.source} change at {self.at:%Y-%m-%d %H:%M} by {self.actor_name or 'someone'}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AppendOnlyConfigLog("configuration changes are a log: they cannot be changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyConfigLog("configuration changes are a log: they cannot be deleted")
