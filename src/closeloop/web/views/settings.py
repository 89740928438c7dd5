"""Settings in the product, for administrators: the recovery thresholds, digest times and weekend SMS, the
weekly summaries' day and time,
people with their units and roles, a rule's conditions and recipients.

Every page changes the exported configuration document and applies it through `config apply`'s own code
(closeloop.web.settings_changes): the same checks, the same writes, a logged ConfigChange, and the change
is in `closeloop config export` at once.
"""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from closeloop.alerts.rulebook import configured_rules
from closeloop.alerts.text_judging import asks_for_text, organization_examples
from closeloop.config.apply import ConfigInvalid, Plan, changes_since_file
from closeloop.org.directory import current_organization
from closeloop.org.models import ConfigChange, Unit
from closeloop.textmodel import judge_status
from closeloop.web.permissions import Viewer, admin_view
from closeloop.web.settings_changes import (
    Document,
    Locate,
    apply_document,
    current_document,
    index_in,
    on,
    place_problems,
)
from closeloop.web.settings_forms import (
    ROLE_CHOICES,
    WEEKDAY_CHOICES,
    DigestForm,
    PersonForm,
    RoleFormSet,
    RuleForm,
    SummaryForm,
    ThresholdForm,
    number_text,
    recipients_initial,
)
from closeloop.web.views.common import page

RECENT_CHANGES = 15


def _who(request: HttpRequest) -> tuple[Any, str]:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    name = viewer.name or (request.user.get_username() if isinstance(request.user, User) else "")
    return viewer.person, name


def _apply(request: HttpRequest, document: Document, summary: str) -> Plan:
    person, name = _who(request)
    return apply_document(document, actor=person, actor_name=name, summary=summary)


def _say_applied(request: HttpRequest, plan: Plan, what: str) -> None:
    if plan.is_empty:
        messages.info(request, f"{what}: nothing changed.")
    else:
        messages.success(request, f"{what} saved: " + "; ".join(line for line in plan.lines() if ": " in line))


@admin_view
def settings_home(request: HttpRequest) -> HttpResponse:
    recent = list(ConfigChange.objects.select_related("actor").order_by("-at", "-id")[:RECENT_CHANGES])
    examples = organization_examples(current_organization())
    context = {
        "changes": recent,
        "since_file": changes_since_file(),
        # Which judge hears the customers' words, and why (the model, or the fallback without its package).
        "text_model": judge_status(examples),
        "text_examples": examples,
        "text_rules": [rule for rule in configured_rules() if asks_for_text([rule])],
    }
    return page(request, "web/settings/home.html", context)


# --- recovery thresholds -----------------------------------------------------------------------------


@admin_view
def thresholds(request: HttpRequest) -> HttpResponse:
    document = current_document()
    surveys = document.get("surveys") or []
    organization = document.setdefault("organization", {})
    initial: dict[str, Any] = {"organization": number_text(organization.get("recovery_threshold", 6))}
    form = ThresholdForm(request.POST or None, surveys=surveys, initial=initial)
    for index, name in form.survey_fields:
        form.initial[name] = number_text(surveys[index].get("recovery_threshold"))
    if request.method == "POST" and form.is_valid():
        organization["recovery_threshold"] = form.cleaned_data["organization"]
        for index, name in form.survey_fields:
            value = form.cleaned_data[name]
            if value is None:
                surveys[index].pop("recovery_threshold", None)
            else:
                surveys[index]["recovery_threshold"] = value
        try:
            plan = _apply(request, document, "Recovery thresholds")
        except ConfigInvalid as invalid:
            targets = [(f"surveys[{index}].recovery_threshold", on(form, name)) for index, name in form.survey_fields]
            place_problems(invalid, [("organization.recovery_threshold", on(form, "organization")), *targets], form)
        else:
            _say_applied(request, plan, "Recovery thresholds")
            return redirect("settings-thresholds")
    status = 422 if request.method == "POST" else 200
    return page(request, "web/settings/thresholds.html", {"form": form}, status=status)


# --- digests -----------------------------------------------------------------------------------------


@admin_view
def digests(request: HttpRequest) -> HttpResponse:
    document = current_document()
    entries = document.get("digests") or []
    form = DigestForm(request.POST or None, digests=entries)
    for index, at, weekend in form.digest_fields:
        form.initial[at] = entries[index].get("at", "")
        form.initial[weekend] = bool(entries[index].get("weekend_sms", True))
    if request.method == "POST" and form.is_valid():
        for index, at, weekend in form.digest_fields:
            entries[index]["at"] = _clock(form.cleaned_data[at])
            entries[index]["weekend_sms"] = form.cleaned_data[weekend]
        try:
            plan = _apply(request, document, "Digest times and weekend SMS")
        except ConfigInvalid as invalid:
            targets = []
            for index, at, weekend in form.digest_fields:
                targets += [
                    (f"digests[{index}].at", on(form, at)),
                    (f"digests[{index}].weekend_sms", on(form, weekend)),
                ]
            place_problems(invalid, targets, form)
        else:
            _say_applied(request, plan, "Digests")
            return redirect("settings-digests")
    status = 422 if request.method == "POST" else 200
    return page(request, "web/settings/digests.html", {"form": form, "digests": entries}, status=status)


def _clock(value: str) -> str:
    """A time as the file writes it: an <input type=time> may send seconds; the file's times are HH:MM."""
    value = value.strip()
    return value[:5] if len(value) == 8 and value.endswith(":00") else value


# --- weekly summaries --------------------------------------------------------------------------------


@admin_view
def summaries(request: HttpRequest) -> HttpResponse:
    document = current_document()
    entries = document.get("summaries") or []
    form = SummaryForm(request.POST or None, summaries=entries)
    for index, day, at, themes in form.summary_fields:
        form.initial[day] = _full_day(str(entries[index].get("day", "monday")))
        form.initial[at] = entries[index].get("at", "")
        form.initial[themes] = entries[index].get("themes", 5)
    if request.method == "POST" and form.is_valid():
        for index, day, at, themes in form.summary_fields:
            entries[index]["day"] = form.cleaned_data[day]
            entries[index]["at"] = _clock(form.cleaned_data[at])
            entries[index]["themes"] = form.cleaned_data[themes]
        try:
            plan = _apply(request, document, "Weekly summaries")
        except ConfigInvalid as invalid:
            targets = []
            for index, day, at, themes in form.summary_fields:
                targets += [
                    (f"summaries[{index}].day", on(form, day)),
                    (f"summaries[{index}].at", on(form, at)),
                    (f"summaries[{index}].themes", on(form, themes)),
                ]
            place_problems(invalid, targets, form)
        else:
            _say_applied(request, plan, "Weekly summaries")
            return redirect("settings-summaries")
    status = 422 if request.method == "POST" else 200
    return page(request, "web/settings/summaries.html", {"form": form, "summaries": entries}, status=status)


def _full_day(day: str) -> str:
    """The file may say `mon` or `monday`; the form lists whole names."""
    short = day.strip().lower()[:3]
    return next((value for value, _ in WEEKDAY_CHOICES if value.startswith(short)), "monday")


# --- people ------------------------------------------------------------------------------------------


def _unit_choices() -> list[tuple[str, str]]:
    return [(u.code, "\u2003" * u.depth + f"{u.name} ({u.code})") for u in Unit.objects.all()]


@admin_view
def people(request: HttpRequest) -> HttpResponse:
    document = current_document()
    role_names = dict(ROLE_CHOICES)
    rows = [
        {
            "person": person,
            "roles": [
                f"{role_names.get(r.get('role'), r.get('role'))} of {r.get('unit')}" for r in person.get("roles", [])
            ],
        }
        for person in document.get("people") or []
    ]
    return page(request, "web/settings/people.html", {"rows": rows})


@admin_view
def person_edit(request: HttpRequest, key: str | None = None) -> HttpResponse:
    """Add a person (no key) or change one: their details, whether they sign in, their units and roles."""
    document = current_document()
    everyone: list[dict[str, Any]] = document.setdefault("people", [])
    index = next((i for i, p in enumerate(everyone) if p.get("id") == key), None) if key else None
    if key and index is None:
        raise Http404("No such person")
    entry: dict[str, Any] = dict(everyone[index]) if index is not None else {}
    new = index is None
    initial = {name: entry.get(name, "") for name in ("id", "name", "email", "phone")} | {
        "login": entry.get("login", False)
    }
    roles_initial = [{"unit": r.get("unit"), "role": r.get("role")} for r in entry.get("roles", [])]
    units = _unit_choices()
    data = request.POST if request.method == "POST" else None
    form = PersonForm(data, new=new, initial=initial)
    roles = RoleFormSet(data, initial=roles_initial, prefix="roles", form_kwargs={"units": units})
    if request.method == "POST" and request.POST.get("action") == "remove" and not new:
        # Removing is asked for, then confirmed on a page of its own.
        return page(request, "web/settings/person_remove.html", {"entry": entry})
    if request.method == "POST" and request.POST.get("action") == "remove-confirmed" and index is not None:
        del everyone[index]
        try:
            plan = _apply(request, document, f"Removed {entry.get('name')} ({key})")
        except ConfigInvalid as invalid:
            # Someone the configuration still names (a rule, a template, a digest): say where.
            problems: dict[str, Any] = {"entry": entry, "problems": invalid.problems}
            return page(request, "web/settings/person_remove.html", problems, status=422)
        _say_applied(request, plan, f"{entry.get('name')}")
        return redirect("settings-people")
    if request.method == "POST" and form.is_valid() and roles.is_valid():
        person = dict(entry)
        person["id"] = key if not new else form.cleaned_data["id"].strip()
        person["name"] = form.cleaned_data["name"].strip()
        for name in ("email", "phone"):
            value = form.cleaned_data[name].strip()
            if value:
                person[name] = value
            else:
                person.pop(name, None)
        if form.cleaned_data["login"]:
            person["login"] = True
        else:
            person.pop("login", None)
        # Rows in the order shown, so a problem with roles[n] can be put back on its row.
        kept = [
            (position, sub)
            for position, sub in enumerate(roles.forms)
            if sub.cleaned_data.get("unit") and not sub.cleaned_data.get("DELETE")
        ]
        person["roles"] = [{"unit": sub.cleaned_data["unit"], "role": sub.cleaned_data["role"]} for _, sub in kept]
        if not person["roles"]:
            person.pop("roles")
        if index is None:
            everyone.append(person)
            where = len(everyone) - 1
        else:
            everyone[index] = person
            where = index
        try:
            plan = _apply(request, document, f"{'Added' if new else 'Changed'} {person['name']} ({person['id']})")
        except ConfigInvalid as invalid:

            def role_row(rest: str) -> tuple[forms.Form, str | None] | None:
                # "[1].unit" -> the second row kept, its unit field.
                row = index_in(rest)
                if row is None or row >= len(kept):
                    return (form, None)
                return (kept[row][1], rest.rsplit(".", 1)[-1] if "." in rest else None)

            targets: list[tuple[str, Locate]] = [(f"people[{where}].roles", role_row)]
            targets += [
                (f"people[{where}].{name}", on(form, name)) for name in ("id", "name", "email", "phone", "login")
            ]
            targets.append((f"people[{where}]", on(form, None)))
            place_problems(invalid, targets, form)
        else:
            _say_applied(request, plan, person["name"])
            return redirect("settings-person", key=person["id"])
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "roles": roles, "new": new, "entry": entry}
    return page(request, "web/settings/person.html", context, status=status)


# --- rules -------------------------------------------------------------------------------------------


@admin_view
def rules(request: HttpRequest) -> HttpResponse:
    document = current_document()
    return page(request, "web/settings/rules.html", {"rules": document.get("rules") or []})


def _people_choices(document: Document) -> list[tuple[str, str]]:
    return [(str(p["id"]), f"{p.get('name', p['id'])} ({p['id']})") for p in document.get("people") or []]


@admin_view
def rule_edit(request: HttpRequest, key: str) -> HttpResponse:
    document = current_document()
    entries = document.get("rules") or []
    index = next((i for i, r in enumerate(entries) if r.get("key") == key), None)
    if index is None:
        raise Http404("No such rule")
    rule = entries[index]
    notify = rule.setdefault("notify", {})
    initial: dict[str, Any] = {"when": yaml.safe_dump(rule.get("when"), sort_keys=False, allow_unicode=True).strip()}
    initial |= recipients_initial(notify.get("to") or [])
    form = RuleForm(request.POST or None, people=_people_choices(document), initial=initial)
    if request.method == "POST" and form.is_valid():
        rule["when"] = form.cleaned_data["when"]
        notify["to"] = form.recipients_list()
        try:
            plan = _apply(request, document, f"Rule {rule.get('name', key)} ({key})")
        except ConfigInvalid as invalid:
            targets = [
                (f"rules[{index}].when", on(form, "when")),
                (f"rules[{index}].notify.to", on(form, "recipients")),
            ]
            place_problems(invalid, targets, form)
        else:
            _say_applied(request, plan, f"Rule {rule.get('name', key)}")
            return redirect("settings-rule", key=key)
    status = 422 if request.method == "POST" else 200
    return page(request, "web/settings/rule.html", {"form": form, "rule": rule}, status=status)
