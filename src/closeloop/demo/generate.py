"""Load the demo: the organisation, a month of responses, the admin login and demo passwords.

Idempotent. The responses are dated relative to an anchor instant stored in
CLOSELOOP_HOME/demo.json on the first run, so a later run (even days later) regenerates
exactly the same items and stores nothing new. The configuration is applied only to an
empty database, so `make run` can call `closeloop demo` every time without undoing changes
made since in the settings.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from closeloop.actions.ingest import ingest_responses
from closeloop.cases.models import Case
from closeloop.config.apply import apply_config
from closeloop.demo.cases import CaseWork, work_on_cases
from closeloop.demo.responses import EXTERNAL_ID_PREFIX, RESPONSE_COUNT, demo_responses
from closeloop.environment import PRIVATE_FILE, create_private_file
from closeloop.feedback.models import Response
from closeloop.feedback.store import RejectedInput
from closeloop.org.models import Organization, Person

SOURCE = "demo"
CONFIG_PATH = Path(__file__).with_name("organization.yaml")
ANCHOR_FILE = "demo.json"
LOGIN_FILE = "admin-login.txt"
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@brightline.example"


@dataclass
class DemoReport:
    organization: str
    skipped: str = ""  # why nothing was loaded (another organisation is configured), else ""
    configured: bool = False  # the configuration was applied by this run
    created: int = 0
    invalid: int = 0
    already_loaded: int = 0
    rejected: list[str] = field(default_factory=list)
    cases: CaseWork = field(default_factory=CaseWork)
    anchor: datetime | None = None
    login: tuple[str, str] | None = None
    # The password was made by this run: the one time it is shown (afterwards only where it is kept).
    login_is_new: bool = False
    people_with_login: list[str] = field(default_factory=list)


def organization_yaml() -> str:
    return CONFIG_PATH.read_text(encoding="utf-8")


def load_demo(
    *,
    home: Path | None = None,
    now: datetime,
    count: int = RESPONSE_COUNT,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Apply the demo organisation (if the database has none), store its responses and logins.

    `count` responses (the first ones of the same seeded sequence); `on_progress(done, total)`
    is called as they are stored.
    """
    home = Path(home or settings.CLOSELOOP_HOME)
    text = organization_yaml()
    config: dict[str, Any] = yaml.safe_load(text)
    report = DemoReport(organization=config["organization"]["name"])
    existing = Organization.objects.filter(pk=1).first()
    if existing is not None and existing.name != report.organization:
        report.skipped = f"the organisation {existing.name!r} is already configured; the demo would overwrite it"
        return report
    if existing is None:
        apply_config(text, actor_name="closeloop demo", summary="The demo organisation")
        report.configured = True

    report.anchor = demo_anchor(home, now)
    responses = demo_responses(config, report.anchor, count=count)
    stored = set(
        Response.objects.filter(source=SOURCE, external_id__startswith=EXTERNAL_ID_PREFIX).values_list(
            "survey__key", "external_id"
        )
    )
    created_ids: list[int] = []
    for done, demo in enumerate(responses, start=1):
        if (demo.item["survey"], demo.item["external_id"]) in stored:
            report.already_loaded += 1
        else:
            # One call per response at the moment it arrived, so alerts, cases and their
            # deadlines carry the dates they would have had in real life.
            (outcome,) = ingest_responses([demo.item], source=SOURCE, now=demo.arrival)
            if isinstance(outcome, RejectedInput):
                report.rejected.append(f"{demo.item['external_id']}: {outcome}")
            elif not outcome.created:
                report.already_loaded += 1
            elif outcome.response.status == Response.Status.INVALID:
                report.invalid += 1
            else:
                report.created += 1
            if not isinstance(outcome, RejectedInput) and outcome.created:
                created_ids.append(outcome.response.pk)
        if on_progress is not None:
            on_progress(done, len(responses))

    opened = Case.objects.filter(response_id__in=created_ids).select_related(
        "response__customer", "response__agent", "unit"
    )
    report.cases = work_on_cases(opened.order_by("opened_at", "pk"), anchor=report.anchor)

    known_before = demo_login(home) is not None
    report.login = ensure_admin(home)
    report.login_is_new = report.login is not None and not known_before
    if report.login is not None:
        report.people_with_login = give_demo_passwords(report.login[1])
    return report


def demo_anchor(home: Path, now: datetime) -> datetime:
    """The instant the demo's month ends: stored on first use and kept while demo responses exist."""
    path = home / ANCHOR_FILE
    if path.exists() and Response.objects.filter(source=SOURCE).exists():
        try:
            return datetime.fromisoformat(json.loads(path.read_text())["anchor"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}: unreadable demo anchor ({exc}); delete the file to start the demo afresh"
            ) from exc
    # A fresh database (or a deleted one) gets a fresh month ending now.
    anchor = now.astimezone(UTC).replace(second=0, microsecond=0)
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"anchor": anchor.isoformat()}) + "\n")
    return anchor


def ensure_admin(home: Path) -> tuple[str, str] | None:
    """The `admin` superuser's login, created once with a random password kept in CLOSELOOP_HOME.

    None when an `admin` with a password already existed before the demo: that password is
    not ours to know or to change.
    """
    user_model = get_user_model()
    admin = user_model._default_manager.filter(username=ADMIN_USERNAME).first()
    saved = demo_login(home)
    if admin is not None and admin.has_usable_password():
        return saved
    password = saved[1] if saved is not None else secrets.token_urlsafe(12)
    if admin is None:
        user_model._default_manager.create_superuser(ADMIN_USERNAME, ADMIN_EMAIL, password)
    else:
        admin.set_password(password)
        admin.save(update_fields=["password"])
    path = home / LOGIN_FILE
    # Private before the password is in it.
    create_private_file(path)
    path.chmod(PRIVATE_FILE)
    path.write_text(f"username: {ADMIN_USERNAME}\npassword: {password}\n", encoding="utf-8")
    return ADMIN_USERNAME, password


def give_demo_passwords(password: str) -> list[str]:
    """Give every demo person who may log in, and has no password yet, the admin's password.

    A password someone has set since is left alone. The password is hashed once and the hash
    shared: hashing is deliberately slow, and these accounts share one password anyway.
    """
    people = list(Person.objects.filter(login=True, active=True, user__isnull=False).select_related("user"))
    without = [p.user for p in people if p.user is not None and not p.user.has_usable_password()]
    if without:
        encoded = make_password(password)
        for user in without:
            user.password = encoded
        get_user_model()._default_manager.bulk_update(without, ["password"])
    return sorted(p.key for p in people)


def demo_login(home: Path | None = None) -> tuple[str, str] | None:
    """(username, password) of the demo's admin, as written by `closeloop demo`; None before the demo."""
    path = Path(home or settings.CLOSELOOP_HOME) / LOGIN_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    values = dict(line.split(": ", 1) for line in lines if ": " in line)
    if values.get("username") and values.get("password"):
        return values["username"], values["password"]
    return None
