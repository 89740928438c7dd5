"""Surveys, their questions, customers and the responses they give."""

from __future__ import annotations

from django.db import models


class Survey(models.Model):
    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    overall = models.CharField(max_length=100, blank=True, help_text="Key of the overall-score question")
    # In the overall question's own scale; None: the organisation's threshold, converted onto that scale.
    recovery_threshold = models.FloatField(null=True, blank=True)
    language = models.CharField(max_length=10, default="en", help_text="ISO 639-1 code: keywords match its word forms")
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="False once removed from the configuration")

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    class Type(models.TextChoices):
        SCALE = "scale"
        NPS = "nps"
        YES_NO = "yes_no"
        CHOICE = "choice"
        MULTI_CHOICE = "multi_choice"
        TEXT = "text"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=Type.choices)
    label = models.CharField(max_length=500, blank=True)
    min = models.FloatField(null=True, blank=True)
    max = models.FloatField(null=True, blank=True)
    options = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["survey", "position"]
        constraints = [models.UniqueConstraint(fields=["survey", "key"], name="question_unique_key")]

    def __str__(self) -> str:
        return f"{self.survey.key}.{self.key}"


class Customer(models.Model):
    """A customer, upserted by the id the survey tool gives."""

    external_id = models.CharField(max_length=200, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    tier = models.CharField(max_length=50, blank=True)
    contact_ok = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name or self.external_id


class Response(models.Model):
    class Status(models.TextChoices):
        VALID = "valid"
        INVALID = "invalid"

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    external_id = models.CharField(max_length=200)
    source = models.CharField(max_length=100, default="api")
    submitted_at = models.DateTimeField()
    received_at = models.DateTimeField()
    # When the response became valid (arrival, or the fix of an invalid one): SLAs count from here.
    valid_since = models.DateTimeField(null=True, blank=True)
    # What the sender said, kept verbatim so an invalid code can be seen and fixed.
    unit_code = models.CharField(max_length=100, blank=True)
    unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="responses")
    segment = models.CharField(max_length=100, blank=True)
    agent_code = models.CharField(max_length=100, blank=True)
    agent = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="responses")
    # The customer's details and consent as this response gave them: what every surface shows with it. A
    # sender cannot rewrite what another unit's responses show by sending the same customer id, and consent
    # given here is given for this response only; a later withdrawal clears it here too.
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.CharField(max_length=254, blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    contact_ok = models.BooleanField(default=False)
    answers = models.JSONField(default=dict)
    # The answers to the survey's text questions, one a line (core.answers.customer_words): what lists show
    # and search. Answers never change once stored, so neither does this.
    words = models.TextField(blank=True)
    interviewer_notes = models.TextField(blank=True)
    interviewer_flag = models.BooleanField(default=False)
    audio_url = models.URLField(max_length=1000, blank=True)
    # Whether `audio_url` is https on a host its source's allow-list names (core.hosts), decided when it
    # was stored: only then do messages and pages make it a link.
    audio_url_allowed = models.BooleanField(default=False)
    # An uploaded recording: its file name in $CLOSELOOP_HOME/audio/ and its type, read from its content.
    audio_file = models.CharField(max_length=200, blank=True)
    audio_type = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    # Everything wrong with the response: why it cannot be routed, then `intake_problems`.
    problems = models.JSONField(default=list, blank=True)
    # What the sending tool's data had wrong (a mapped field missing, a value that did not fit), kept with
    # the response; these alone do not quarantine it, and fixing the unit or segment leaves them listed.
    intake_problems = models.JSONField(default=list, blank=True)
    # When a later delivery of the same response (a comment after the score) last changed it.
    updated_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    # The overall score (from the survey's `overall` question) and whether it is at or
    # below the recovery threshold: denormalised so the recovery filters are indexed queries.
    overall = models.FloatField(null=True, blank=True)
    needs_recovery = models.BooleanField(default=False)
    # Older than the organisation's alert_max_age when it arrived (or imported with --historic): its alerts are
    # recorded and counted, but none was delivered and no case was opened for it.
    # db_default: rows inserted by plain SQL (bulk loads, the benchmarks) are live unless they say otherwise.
    historic = models.BooleanField(default=False, db_default=False)
    # What the text model heard, per voice: {"customer": {...}, "interviewer": {...}}, each a judgement
    # (label, score, model, version, reason, explanation; alerts.text_judging). Written when a rule's
    # `text` condition first needed it (texts are judged only then), so empty for most responses.
    text_judgement = models.JSONField(default=dict, blank=True)
    # What the notes of the response's case say, kept by cases.services (adding a note sets them; a case
    # moving to a resubmission takes them along) so that the lists' `srn` filters are indexed conditions on
    # this row instead of a look into the case's timeline for every response (docs/architecture.md).
    has_notes = models.BooleanField(default=False, db_default=False)  # its case has a note
    spoken_to = models.BooleanField(default=False, db_default=False)  # one of those notes spoke to the customer

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "external_id"], name="response_unique_external_id"),
        ]
        indexes = [
            models.Index(fields=["survey", "ticket"]),
            models.Index(fields=["unit", "submitted_at"]),
            models.Index(fields=["submitted_at"]),
            models.Index(fields=["needs_recovery", "submitted_at"]),
            # The lists' `srn` filters, newest first: x (needing recovery, no note yet), and w, v, s (the notes).
            # `superseded_by` (IS NULL: the current responses) comes last, after the order, so that counting
            # such a list reads the index alone and PostgreSQL still reads it in `submitted_at` order.
            models.Index(
                fields=["needs_recovery", "has_notes", "submitted_at", "superseded_by"], name="response_srn_unnoted"
            ),
            models.Index(fields=["has_notes", "spoken_to", "submitted_at", "superseded_by"], name="response_srn_noted"),
            models.Index(fields=["customer", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey.key}/{self.external_id}"

    @property
    def is_current(self) -> bool:
        return self.superseded_by_id is None

    @property
    def placement_problems(self) -> list[str]:
        """The problems that keep it quarantined (its unit or segment), without those only listed."""
        return [str(problem) for problem in self.problems or [] if is_placement_problem(str(problem))]


# The fields whose problems quarantine a response (it cannot be routed); other problems are only listed.
PLACEMENT_FIELDS = frozenset({"unit", "segment"})


def is_placement_problem(problem: str) -> bool:
    return problem.split(":", 1)[0] in PLACEMENT_FIELDS
