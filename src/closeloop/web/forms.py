"""Forms of the web UI: list filters and the actions on a case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import uuid4

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.template.loader import render_to_string
from django.utils import timezone

from closeloop.alerts.models import KIND_CHOICES
from closeloop.cases.models import Case
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


class NoteForm(forms.Form):
    author = forms.CharField(max_length=200, label="Your name")
    spoke_to_customer = forms.BooleanField(required=False, label="Spoke to customer?")
    text = forms.CharField(label="Your notes", widget=forms.Textarea(attrs={"rows": 4}))


class StatusForm(forms.Form):
    status = forms.ChoiceField()
    resolution = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *Case.Resolution.choices],
        label="Resolution (when closing)",
    )
    note = forms.CharField(required=False, label="Note (optional)", widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [(s, s) for s in case.statuses]
        self.fields["status"].initial = case.status


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=Person.objects.none(), to_field_name="key", label="Owner")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Anyone holding a role on the case's unit or above it: the people who could act on it.
        codes = case.unit.path.strip("/").split("/")
        model_choice_field(self, "owner").queryset = (
            Person.objects.filter(active=True, roles__unit__code__in=codes).distinct().order_by("name")
        )
        if case.owner is not None:
            self.fields["owner"].initial = case.owner.key


class ReportFilterForm(DateRangeForm):
    pass


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
