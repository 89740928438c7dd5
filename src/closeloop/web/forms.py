"""Forms of the web UI: list filters and the actions on a case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import uuid4

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from closeloop.alerts.models import KIND_CHOICES, SEVERITY_CHOICES
from closeloop.cases.models import Case
from closeloop.cases.services import possible_owners
from closeloop.core.limits import day_problem
from closeloop.core.vocabulary import Severity
from closeloop.feedback.models import Response, Survey
from closeloop.notify.outbox import enqueue
from closeloop.org.models import Person, Segment, Unit


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """A form's choice field, to fill in its choices when the form is made."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


def model_choice_field(form: forms.Form, name: str) -> forms.ModelChoiceField:
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field


SRN_CHOICES = [
    ("y", "All responses"),
    ("r", "Needing recovery"),
    ("x", "Needing recovery, no notes yet"),
    ("w", "With notes"),
    ("v", "With notes, never spoke to the customer"),
    ("s", "With notes, spoke to the customer"),
    ("n", "All responses, without notes"),
]


def unit_choices(units: Sequence[Unit]) -> list[tuple[str, str]]:
    # Indented by depth so the tree reads as a tree in a plain <select>.
    return [("", "All my units")] + [(u.code, "\u2003" * u.depth + f"{u.name} ({u.code})") for u in units]


def _usable_day(day: date) -> None:
    problem = day_problem(day)
    if problem:
        raise forms.ValidationError(f"{problem}.")


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}), validators=[_usable_day]
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}), validators=[_usable_day]
    )
    unit = forms.ChoiceField(required=False, label="Unit (with its sub-units)")

    def __init__(self, *args: Any, units: Sequence[Unit] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "unit").choices = unit_choices(units)
        self._units = {u.code: u for u in units}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def chosen_unit(self) -> Unit | None:
        return self._units.get(self.cleaned_data.get("unit") or "")


class ResponseFilterForm(DateRangeForm):
    survey = forms.ChoiceField(required=False)
    srn = forms.ChoiceField(required=False, choices=SRN_CHOICES, label="Service recovery")
    status = forms.ChoiceField(
        required=False, choices=[("", "Valid and invalid"), ("valid", "Valid"), ("invalid", "Invalid (quarantined)")]
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "survey").choices = [("", "All surveys")] + [(s.key, s.name) for s in Survey.objects.all()]


class AlertFilterForm(DateRangeForm):
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *KIND_CHOICES])
    category = forms.ChoiceField(required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "category").choices = [("", "All categories")] + [(c, c) for c in categories]


CASE_STATES = [("open", "Open"), ("closed", "Closed"), ("all", "Open and closed")]
CASE_FLAGS = [
    ("overdue", "Overdue"),
    ("due_soon", "Due in the next 24 h"),
    ("due_today", "Due today"),
    ("not_viewed", "Not viewed yet"),
    ("escalated", "Escalated"),
    ("contacted_today", "Contacted today"),
]
NOBODY = "-"
CASE_SORTS = [
    ("due", "Due soonest"),
    ("-due", "Due latest"),
    ("severity", "Most severe"),
    ("-severity", "Least severe"),
    ("-opened", "Newest"),
    ("opened", "Oldest"),
]


class CaseFilterForm(DateRangeForm):
    """The case list's view: every field is a query parameter, so the address is the whole view."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text="The customer's name, the ticket or the customer's words",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    state = forms.ChoiceField(required=False, choices=CASE_STATES, label="Open or closed")
    owner = forms.ChoiceField(required=False, label="Owner")
    severity = forms.ChoiceField(required=False, label="Severity")
    status = forms.ChoiceField(required=False, label="Status")
    category = forms.ChoiceField(required=False, label="Category")
    tier = forms.ChoiceField(required=False, label="Customer tier")
    flag = forms.MultipleChoiceField(
        required=False, choices=CASE_FLAGS, label="Only cases that are", widget=forms.CheckboxSelectMultiple
    )
    mine = forms.BooleanField(required=False, label="Only cases I own, manage or work on")
    # A plain field with a menu: a sort key the menu lacks (one of the monitor's) is ignored, not an error.
    sort = forms.CharField(required=False, label="Sort by", widget=forms.Select(choices=CASE_SORTS))

    field_order = [
        "q",
        "state",
        "unit",
        "owner",
        "severity",
        "status",
        "category",
        "tier",
        "date_from",
        "date_to",
        "sort",
    ]

    def __init__(
        self,
        *args: Any,
        people: Sequence[Person] = (),
        statuses: Sequence[str] = (),
        categories: Sequence[str] = (),
        tiers: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date_from"].label = "Opened from"
        self.fields["date_to"].label = "Opened to"
        choice_field(self, "owner").choices = [("", "Anyone"), (NOBODY, "Nobody yet")] + [
            (p.key, p.name) for p in people
        ]
        choice_field(self, "severity").choices = [("", "Any severity"), *SEVERITY_CHOICES]
        choice_field(self, "status").choices = [("", "Any status")] + [(s, s) for s in statuses]
        choice_field(self, "category").choices = [("", "Any category")] + [(c, c) for c in categories]
        choice_field(self, "tier").choices = [("", "Any tier")] + [(t, t) for t in tiers]


class BulkAssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=Person.objects.none(), to_field_name="key", label="Assign to")

    def __init__(self, *args: Any, people: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "owner").queryset = people


class CloseFieldsMixin(forms.Form):
    """What closing a case asks for: how it ended, why it happened, what was done."""

    resolution = forms.ChoiceField(
        required=False, choices=[("", "—"), *Case.Resolution.choices], label="Resolution (when closing)"
    )
    root_cause = forms.ChoiceField(required=False, label="Root cause (when closing)")
    action_taken = forms.CharField(
        required=False,
        max_length=2000,
        label="Action taken (when closing)",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What was done for the customer.",
    )

    def set_root_causes(self, causes: Sequence[str]) -> None:
        choice_field(self, "root_cause").choices = [("", "—")] + [(c, c) for c in causes]

    def check_closing(self, data: dict[str, Any]) -> None:
        """Closing here needs its resolution and root cause; the API keeps both optional but the first."""
        if not data.get("resolution"):
            self.add_error("resolution", "closing a case needs a resolution: resolved or unresolved")
        if not data.get("root_cause"):
            self.add_error("root_cause", "closing a case needs a root cause: what was it down to?")


class BulkCloseForm(CloseFieldsMixin):
    def __init__(self, *args: Any, root_causes: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_root_causes(root_causes)
        self.fields["resolution"].label = "Resolution"
        self.fields["root_cause"].label = "Root cause"
        self.fields["action_taken"].label = "Action taken"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.check_closing(data)
        return data


class NoteForm(forms.Form):
    author = forms.CharField(max_length=200, label="Your name")
    spoke_to_customer = forms.BooleanField(required=False, label="Spoke to customer?")
    text = forms.CharField(label="Your notes", widget=forms.Textarea(attrs={"rows": 4}))


class StatusForm(CloseFieldsMixin):
    status = forms.ChoiceField()
    # Not `spoke_to_customer`: the note form beside it on the page has a field of that name and id.
    spoke = forms.BooleanField(
        required=False,
        label="Spoke to customer? (when closing)",
        help_text="Tick it when you spoke to the customer; the note (or the action taken) records it.",
    )
    note = forms.CharField(required=False, label="Note (optional)", widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["status", "resolution", "root_cause", "action_taken", "spoke", "note"]

    def __init__(self, *args: Any, case: Case, root_causes: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        choice_field(self, "status").choices = [(s, s) for s in case.statuses]
        self.fields["status"].initial = case.status
        self.set_root_causes(root_causes)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == self.case.closed_status and data.get("status") != self.case.status:
            self.check_closing(data)
        return data


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=Person.objects.none(), to_field_name="key", label="Owner")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The people who could act on it, by the rule the API and the service apply too.
        model_choice_field(self, "owner").queryset = possible_owners(case)
        if case.owner is not None:
            self.fields["owner"].initial = case.owner.key


class ReportFilterForm(DateRangeForm):
    pass


class ServiceReportForm(forms.Form):
    """The day and unit of a Service Recovery Report (GET /reports/service-recovery.pdf)."""

    unit = forms.ChoiceField(label="Unit")
    date = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, units: Sequence[Unit] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "unit").choices = [(u.code, "\u2003" * u.depth + f"{u.name} ({u.code})") for u in units]
        self.auto_id = "pdf_%s"


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the email goes through the outbox like every other message.

    Without EMAIL_URL, mail is kept in the outbox rather than sent, so an administrator can still pass the
    link on; with it, the worker delivers and retries the email.
    """

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        user = context.get("user")
        enqueue(
            channel="email",
            address=to_email,
            subject=subject,
            text=render_to_string(email_template_name, context),
            idempotency_key=f"password-reset:{uuid4().hex}",
            now=timezone.now(),
            topic="password",
            person=Person.objects.filter(user=user).first() if user is not None else None,
            # Someone is waiting at the screen for this one.
            severity=Severity.URGENT,
        )


class FixResponseForm(forms.Form):
    """Route a quarantined response: the unit (and segment) it should have had."""

    unit = forms.ChoiceField(label="Unit")
    segment = forms.ChoiceField(required=False, label="Segment")

    def __init__(self, *args: Any, response: Response, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "unit").choices = [("", "Choose a unit")] + [
            (u.code, "\u2003" * u.depth + f"{u.name} ({u.code})") for u in Unit.objects.all()
        ]
        segments = list(Segment.objects.values_list("code", flat=True))
        choice_field(self, "segment").choices = [("", "None")] + [(code, code) for code in segments]
        self.fields["segment"].required = bool(segments)
        self.initial = {"unit": response.unit.code if response.unit is not None else "", "segment": response.segment}


class MoveResponseForm(forms.Form):
    """Reassign a valid response to another unit: its alerts and its case go with it."""

    unit = forms.ChoiceField(label="Move to unit")

    def __init__(self, *args: Any, response: Response, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = response.unit.code if response.unit is not None else ""
        choice_field(self, "unit").choices = [("", "Choose a unit")] + [
            (u.code, "\u2003" * u.depth + f"{u.name} ({u.code})") for u in Unit.objects.all() if u.code != current
        ]
