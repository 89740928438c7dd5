"""The forms of the settings pages. They only collect what was typed: the configuration's own checks
(`config apply`, through closeloop.web.settings_changes) decide whether it is valid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from django import forms

from closeloop.core.schedule import DAY_NAMES
from closeloop.web.forms import choice_field

ROLE_CHOICES = [("lead", "Lead"), ("also_alert", "Also alert"), ("member", "Member"), ("admin", "Admin")]
WORD_RECIPIENTS = [
    ("unit_leads", "The unit's leads"),
    ("unit_also_alerts", "The unit's also-alerts"),
    ("unit_members", "The unit's members"),
    ("agent", "The agent who handled the ticket"),
]
LEVELS = [(str(n), f"Leads {n} unit{'s' if n > 1 else ''} up") for n in (1, 2, 3)]


def number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


class ThresholdForm(forms.Form):
    organization = forms.FloatField(
        label="Organisation-wide threshold",
        help_text="An overall score at or below this needs recovery, in every survey without its own threshold.",
        widget=forms.NumberInput(attrs={"step": "any"}),
    )

    def __init__(self, *args: Any, surveys: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.survey_fields: list[tuple[int, str]] = []
        for index, survey in enumerate(surveys):
            if not survey.get("overall"):
                continue
            name = f"survey_{index}"
            self.fields[name] = forms.FloatField(
                required=False,
                label=f"{survey.get('name', survey.get('key'))}",
                help_text=f"Overall question: {survey['overall']}. Empty: the organisation-wide threshold.",
                widget=forms.NumberInput(attrs={"step": "any"}),
            )
            self.survey_fields.append((index, name))


class DigestForm(forms.Form):
    """The two digest settings that change most: when it goes out and whether weekend SMS wait for Monday."""

    def __init__(self, *args: Any, digests: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digest_fields: list[tuple[int, str, str]] = []
        for index, digest in enumerate(digests):
            at, weekend = f"at_{index}", f"weekend_sms_{index}"
            units = ", ".join(str(unit) for unit in digest.get("units", []))
            # A text field with a time picker: the configuration's own check says what a bad time is.
            self.fields[at] = forms.CharField(
                label=f"{digest['key']}: alert time",
                help_text=f"Local time of each unit ({units}), HH:MM.",
                widget=forms.TextInput(attrs={"type": "time"}),
            )
            self.fields[weekend] = forms.BooleanField(
                required=False,
                label=f"{digest['key']}: send the SMS at weekends",
                help_text="Off: Saturday and Sunday SMS wait until Monday; the email still goes.",
            )
            self.digest_fields.append((index, at, weekend))


WEEKDAY_CHOICES = [(day.lower(), day) for day in DAY_NAMES]


class SummaryForm(forms.Form):
    """A weekly summary's day, time and how many complaint themes it lists."""

    def __init__(self, *args: Any, summaries: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summary_fields: list[tuple[int, str, str, str]] = []
        for index, summary in enumerate(summaries):
            day, at, themes = f"day_{index}", f"at_{index}", f"themes_{index}"
            units = ", ".join(str(unit) for unit in summary.get("units", []))
            self.fields[day] = forms.ChoiceField(label=f"{summary['key']}: day", choices=WEEKDAY_CHOICES)
            self.fields[at] = forms.CharField(
                label=f"{summary['key']}: time",
                help_text=f"Local time of each unit ({units}), HH:MM.",
                widget=forms.TextInput(attrs={"type": "time"}),
            )
            # A number field; the configuration's own check says what a bad count is.
            self.fields[themes] = forms.IntegerField(
                label=f"{summary['key']}: complaint themes listed",
                help_text="The largest themes of the week, the ones that jumped first; 0 lists none.",
            )
            self.summary_fields.append((index, day, at, themes))


class PersonForm(forms.Form):
    id = forms.CharField(label="Id (also the login name)", max_length=100)
    name = forms.CharField(max_length=200)
    email = forms.CharField(required=False, max_length=254, widget=forms.EmailInput)
    phone = forms.CharField(required=False, max_length=40, help_text='For SMS, e.g. "+15555550101".')
    login = forms.BooleanField(required=False, label="May sign in", help_text="Sets up an account named after the id.")

    def __init__(self, *args: Any, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not new:
            self.fields["id"].disabled = True
            self.fields["id"].help_text = "The id is the person's key in the configuration and cannot change."
        self.fields["email"].widget.attrs["autocomplete"] = "off"


class RoleForm(forms.Form):
    unit = forms.ChoiceField(required=False, label="Unit")
    role = forms.ChoiceField(required=False, choices=[("", "—"), *ROLE_CHOICES], label="Role")

    def __init__(self, *args: Any, units: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "unit").choices = [("", "—"), *units]
        # Rows are told apart by number, so each label names one field ("Unit, row 2").
        row = self.prefix.rsplit("-", 1)[-1] if self.prefix else ""
        if row.isdigit():
            number = int(row) + 1
            self.fields["unit"].label = f"Unit, row {number}"
            self.fields["role"].label = f"Role, row {number}"
            if "DELETE" in self.fields:
                self.fields["DELETE"].label = f"Remove row {number}"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("unit")) != bool(data.get("role")):
            self.add_error("role" if data.get("unit") else "unit", "Give both the unit and the role, or neither.")
        return data


RoleFormSet = forms.formset_factory(RoleForm, extra=2, can_delete=True)


class ConditionText(forms.CharField):
    """A rule's condition tree, written as in the configuration file (YAML)."""

    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise forms.ValidationError(f"This is not YAML{where}: {getattr(exc, 'problem', exc)}") from None


class RuleForm(forms.Form):
    when = ConditionText(
        label="Conditions",
        help_text="As in the configuration file: all / any / not with leaves such as "
        "{question: completed, equals: false}, {overall: {lte: 5}}, {keywords: [refund]}.",
    )
    recipients = forms.MultipleChoiceField(
        required=False, choices=WORD_RECIPIENTS, widget=forms.CheckboxSelectMultiple, label="Who is alerted"
    )
    levels = forms.MultipleChoiceField(
        required=False, choices=LEVELS, widget=forms.CheckboxSelectMultiple, label="Also the leads above"
    )
    people = forms.MultipleChoiceField(required=False, label="Also these people", widget=forms.SelectMultiple)

    def __init__(self, *args: Any, people: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people_field = self.fields["people"]
        assert isinstance(people_field, forms.MultipleChoiceField)
        people_field.choices = list(people)
        people_field.widget.attrs["size"] = str(min(max(len(people), 3), 8))

    def recipients_list(self) -> list[Any]:
        data = self.cleaned_data
        chosen: list[Any] = list(data["recipients"])
        chosen += [{"level": int(level)} for level in data["levels"]]
        chosen += [{"person": key} for key in data["people"]]
        return chosen


def recipients_initial(selectors: Sequence[Any]) -> dict[str, list[str]]:
    """The form's initial choices for a rule's `notify.to` list."""
    words = [s for s in selectors if isinstance(s, str)]
    levels = [str(s["level"]) for s in selectors if isinstance(s, dict) and "level" in s]
    people = [str(s["person"]) for s in selectors if isinstance(s, dict) and "person" in s]
    return {"recipients": words, "levels": levels, "people": people}
