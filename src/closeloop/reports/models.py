"""Digest schedules, as the configuration file defines them."""

from __future__ import annotations

from django.db import models


class Digest(models.Model):
    class WhenEmpty(models.TextChoices):
        SKIP = "skip"
        SEND = "send"

    class ReportPer(models.TextChoices):
        PERSON = "person", "One report per person, covering all their units"
        UNIT = "unit", "One report per unit"

    key = models.CharField(max_length=100, unique=True)
    units = models.JSONField(default=list, help_text="Unit codes; each gets its own digest")
    at = models.TimeField(help_text="Local time of the unit")
    window = models.DurationField()
    to = models.JSONField(default=list)
    sms = models.BooleanField(default=True)
    email_pdf = models.BooleanField(default=True)
    weekend_sms = models.BooleanField(default=True)
    when_empty = models.CharField(max_length=10, choices=WhenEmpty.choices, default=WhenEmpty.SKIP)
    report_per = models.CharField(max_length=10, choices=ReportPer.choices, default=ReportPer.PERSON)

    def __str__(self) -> str:
        return self.key


class DigestSchedule(models.Model):
    """When a digest next runs for one of its units. The worker reads only due rows (`next_run_at` is indexed)
    and claims one by moving `next_run_at` on in the transaction that runs the digest, so two workers never
    run the same instant twice.

    `at` and `time_zone` are the values `next_run_at` was computed from: when the configuration changes
    either, the schedule is recomputed."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="schedules")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    at = models.TimeField()
    time_zone = models.CharField(max_length=64)
    next_run_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "unit"], name="digest_schedule_unique")]

    def __str__(self) -> str:
        return f"{self.digest.key} for {self.unit.code} at {self.next_run_at:%Y-%m-%d %H:%M}Z"


class DigestRun(models.Model):
    """One digest of one unit at one scheduled instant, with the window of submissions it covered."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped (nothing to report)"

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="runs")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    run_at = models.DateTimeField(help_text="The scheduled instant (UTC), not when a worker got to it")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    responses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-run_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["digest", "unit", "run_at"], name="digest_run_unique")]

    def __str__(self) -> str:
        return f"{self.digest.key} for {self.unit.code} at {self.run_at:%Y-%m-%d %H:%M}Z"


class DigestItem(models.Model):
    """A response reported by a digest run. The digest and unit are repeated here so the database itself
    guarantees that a response is in at most one digest of a unit."""

    run = models.ForeignKey(DigestRun, on_delete=models.CASCADE, related_name="items")
    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey("feedback.Response", on_delete=models.CASCADE, related_name="digest_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "unit", "response"], name="digest_item_once_per_unit")]

    def __str__(self) -> str:
        return f"response {self.response_id} in run {self.run_id}"


class Summary(models.Model):
    """A weekly programme summary, as the configuration file's `summaries` section defines it."""

    key = models.CharField(max_length=100, unique=True)
    units = models.JSONField(default=list, help_text="Unit codes; each (with its subtree) gets its own summary")
    day = models.PositiveSmallIntegerField(default=0, help_text="Weekday it goes out: 0 Monday .. 6 Sunday")
    at = models.TimeField(help_text="Local time of the unit")
    to = models.JSONField(default=list)
    themes = models.PositiveSmallIntegerField(default=5, help_text="How many complaint themes to list (0: none)")

    class Meta:
        verbose_name_plural = "summaries"

    def __str__(self) -> str:
        return self.key


class SummarySchedule(models.Model):
    """When a summary next runs for one of its units; claimed as DigestSchedule is (see reports.summaries).

    `day`, `at` and `time_zone` are the values `next_run_at` was computed from: when the configuration
    changes any of them, the schedule is recomputed."""

    summary = models.ForeignKey(Summary, on_delete=models.CASCADE, related_name="schedules")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    day = models.PositiveSmallIntegerField()
    at = models.TimeField()
    time_zone = models.CharField(max_length=64)
    next_run_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["summary", "unit"], name="summary_schedule_unique")]

    def __str__(self) -> str:
        return f"{self.summary.key} for {self.unit.code} at {self.next_run_at:%Y-%m-%d %H:%M}Z"


class SummaryRun(models.Model):
    """One summary of one unit at one scheduled instant, with the week (local days) it reported."""

    summary = models.ForeignKey(Summary, on_delete=models.CASCADE, related_name="runs")
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    run_at = models.DateTimeField(help_text="The scheduled instant (UTC), not when a worker got to it")
    date_from = models.DateField()
    date_to = models.DateField()
    responses = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-run_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["summary", "unit", "run_at"], name="summary_run_unique")]

    def __str__(self) -> str:
        return f"{self.summary.key} for {self.unit.code} at {self.run_at:%Y-%m-%d %H:%M}Z"


class TallyDay(models.Model):
    """A local day whose loop-report tallies are built (`reports.tallies`), with the basis they were built on:
    the organisation's time zone and follow-up survey. A day built on another basis counts as not built."""

    day = models.DateField(unique=True)
    basis = models.CharField(max_length=200)
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"tallies of {self.day}"


class UnitDayTally(models.Model):
    """What the loop report needs of one unit's responses of one local day, added up (`reports.tallies`):
    counts, and the few timestamps whose meaning depends on the instant the report is read at."""

    day = models.DateField()
    unit = models.ForeignKey("org.Unit", on_delete=models.CASCADE, related_name="+")
    # Also in `data`; a column of its own so that the report's weekly chart sums it in SQL.
    needing = models.PositiveIntegerField(default=0)
    data = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "unit"], name="unit_day_tally_unique")]

    def __str__(self) -> str:
        return f"tally of {self.unit_id} on {self.day}"


class TallyChange(models.Model):
    """An hour (UTC, counted from the epoch) in which a response was submitted whose report figures changed
    since its day's tallies were built. Written only by database triggers, on every change to a response,
    alert, case or follow-up that the report reads, so no write path can forget it; each change adds a row
    (no upsert: concurrent writers never wait for each other here). The worker rebuilds the days and
    deletes exactly the rows it read."""

    hour = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"change in hour {self.hour}"
