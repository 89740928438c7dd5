"""What happens after a case: the follow-up survey, the customer's later purchases, and complaint spikes."""

from __future__ import annotations

from django.db import models


class FollowUp(models.Model):
    """The one-question survey ("did we resolve your issue?") a customer gets some days after their case closed.

    `due_at` is null while nothing is to be sent (not yet scheduled again after a reopening, or cancelled
    because the customer withdrew consent); the worker reads only rows with a due time and no `sent_at`.
    """

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="follow_up")
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Part of the signed link: a link is only good for the nonce it was made with.
    nonce = models.CharField(max_length=64)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.BooleanField(null=True, blank=True)
    response = models.ForeignKey("feedback.Response", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"follow-up of case {self.case_id}"


class Activity(models.Model):
    """Something a customer did after they complained: bought, renewed or cancelled."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase"
        RENEWAL = "renewal"
        CANCELLATION = "cancellation"

    customer = models.ForeignKey("feedback.Customer", on_delete=models.CASCADE, related_name="activities")
    date = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "-id"]
        # Importing a file twice changes nothing. NULLs are distinct in a unique index, so the rows without an
        # amount need their own (partial) constraint.
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "date", "kind", "amount"],
                condition=models.Q(amount__isnull=False),
                name="activity_once_with_amount",
            ),
            models.UniqueConstraint(
                fields=["customer", "date", "kind"],
                condition=models.Q(amount__isnull=True),
                name="activity_once_without_amount",
            ),
        ]
        indexes = [models.Index(fields=["customer", "date"], name="activity_customer_date")]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.kind} by {self.customer_id} on {self.date}"


class SpikeAlert(models.Model):
    """A sudden rise of recovery alerts for one category at one unit on one day.

    Open (no `cleared_on`) while the rise lasts, so the same spike is announced once; it clears on the first
    checked day whose count is back within the usual range.
    """

    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=200)
    day = models.DateField()
    count = models.PositiveIntegerField()
    baseline = models.FloatField()
    examples = models.JSONField(default=list, blank=True, help_text="[{response, text, link}]")
    cleared_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["unit", "category", "day"], name="spike_once_per_day")]
        indexes = [models.Index(fields=["cleared_on"], name="spike_open")]

    def __str__(self) -> str:
        return f"spike of {self.category} at {self.unit_id} on {self.day}"


class ThemeSpike(models.Model):
    """A complaint theme that jumped: its share of responses in the week ending `day` at least doubled.

    Open (no `cleared_on`) while the theme keeps jumping, so it is announced once; a later day's jumping
    theme is the same one when it shares most of its responses with the open one (closeloop.core.spikes).
    """

    day = models.DateField()
    label = models.CharField(max_length=300)
    count = models.PositiveIntegerField(help_text="Complaints in the theme in the week ending `day`")
    previous = models.PositiveIntegerField(help_text="Complaints in the theme the week before")
    units = models.JSONField(default=list, blank=True, help_text="[[unit code, complaints], ...], most first")
    examples = models.JSONField(default=list, blank=True, help_text="[{response, text, link}]")
    responses = models.JSONField(default=list, blank=True, help_text="Ids of the week's responses in the theme")
    cleared_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["day", "label"], name="theme_spike_once_per_day")]
        indexes = [models.Index(fields=["cleared_on"], name="theme_spike_open")]

    def __str__(self) -> str:
        return f"theme spike {self.label!r} on {self.day}"


class SpikeCheck(models.Model):
    """One row per day the spike check ran, so it runs once a day whatever the number of workers."""

    day = models.DateField(unique=True)
    ran_at = models.DateTimeField()
    spikes = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"spike check of {self.day}"
