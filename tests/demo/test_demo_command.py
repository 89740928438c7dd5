"""`closeloop demo`: a realistic organisation and a month of responses, loaded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Max

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case, CaseEvent
from closeloop.config.apply import apply_config
from closeloop.core.periods import default_range
from closeloop.demo.generate import demo_login, ensure_admin, load_demo
from closeloop.feedback.models import Customer, Response, Survey
from closeloop.notify.models import Delivery
from closeloop.org.models import Person, Unit
from closeloop.reports.themes import report_themes

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(settings: Any, tmp_path: Path) -> Path:
    settings.CLOSELOOP_HOME = tmp_path
    return tmp_path


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "responses": Response.objects.count(),
        "alerts": Alert.objects.count(),
        "customers": Customer.objects.count(),
        "users": get_user_model().objects.count(),
        "units": Unit.objects.count(),
        "cases": Case.objects.count(),
        "case_events": CaseEvent.objects.count(),
        "deliveries": Delivery.objects.count(),
    }


def test_the_demo_loads_a_realistic_organisation_once(
    home: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SITE_URL", raising=False)
    settings.SITE_URL = "http://127.0.0.1:8000"  # through the fixture, so the test's change is undone after it
    # `make run PORT=9123` loads the demo for the port it will serve: its links and login say so.
    output = run_demo("--port", "9123")

    assert Unit.objects.aggregate(deepest=Max("depth"))["deepest"] >= 3
    assert 12 <= Person.objects.count() <= 20
    assert Survey.objects.filter(key__in=["support-csat", "relationship-nps", "recovery-check"]).count() == 3
    assert Response.objects.count() == 500
    invalid = Response.objects.filter(status=Response.Status.INVALID).count()
    assert 5 <= invalid <= 12
    assert f"Responses: {500 - invalid} created, {invalid} invalid" in output
    scores = [r.overall for r in Response.objects.filter(survey__key="support-csat")]
    assert min(s for s in scores if s is not None) <= 2 and max(s for s in scores if s is not None) == 10
    comments = {r.answers.get("comment") for r in Response.objects.all() if r.answers.get("comment")}
    assert len(comments) >= 100
    assert Response.objects.filter(superseded_by__isnull=False).count() == 3
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {"recovery", "praise"} <= kinds
    assert Alert.objects.filter(rule_key="risk-words").exists()
    # The text model heard unhappy customers behind middling scores, and the month's complaints fall into themes.
    heard = Alert.objects.filter(rule_key="unhappy-words")
    assert heard.count() >= 10
    assert all(a.response.text_judgement["customer"]["label"] == "unhappy" for a in heard.select_related("response"))
    today = datetime.now(UTC).astimezone(ZoneInfo("America/New_York")).date()
    themes = report_themes(*default_range(today)).report.themes
    assert len([theme for theme in themes if theme.count >= 3]) >= 2, [(t.label, t.count) for t in themes]
    # The team has worked on most cases, in the past, and left some for the escalations to find.
    closed = Case.objects.filter(state=Case.State.CLOSED)
    assert closed.filter(resolution=Case.Resolution.RESOLVED).count() > 30
    assert closed.filter(resolution=Case.Resolution.UNRESOLVED).exists()
    assert Case.objects.filter(contacted_at__isnull=False).count() > 50
    assert Case.objects.filter(state=Case.State.OPEN, viewed_at__isnull=True).exists()
    assert all(c.opened_at < c.closed_at < datetime.now(UTC) for c in closed)
    assert "customers called" in output
    # Arrival times are spread like real traffic, not all "now".
    assert Response.objects.aggregate(first=Max("received_at"))["first"] < datetime.now(UTC)

    username, password = demo_login(home) or ("", "")
    assert username == "admin" and f"as admin with password {password}" in output
    assert "Log in at http://127.0.0.1:9123/login/ as admin" in output
    linked = Delivery.objects.filter(text__contains="http://127.0.0.1:").values_list("text", flat=True)
    assert linked and all("http://127.0.0.1:9123/" in text for text in linked)
    admin = authenticate(username="admin", password=password)
    assert admin is not None and admin.is_superuser
    assert authenticate(username="erin", password=password) is not None
    assert authenticate(username="priya", password=password) is not None

    before = counts()
    again = run_demo()
    assert counts() == before
    assert "0 created" in again and "500 already loaded" in again and "already configured" in again
    assert demo_login(home) == (username, password)
    # The password was shown once; a second run only says where it is kept.
    assert password not in again
    assert f"as admin; the password is in {home / 'admin-login.txt'}" in again


def test_a_run_on_a_later_day_adds_nothing(home: Path) -> None:
    anchor = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    first = load_demo(home=home, now=anchor, count=40)
    before = counts()
    later = load_demo(home=home, now=anchor + timedelta(days=3), count=40)
    assert first.created + first.invalid == 40 and not first.rejected
    assert later.created == 0 and later.already_loaded == 40
    assert later.anchor == first.anchor == anchor
    assert counts() == before
    newest = Response.objects.aggregate(newest=Max("submitted_at"))["newest"]
    assert anchor - timedelta(days=30) < newest < anchor


def test_the_demo_leaves_another_organisation_alone(home: Path) -> None:
    apply_config("organization: {name: Acme}\nunits: [{code: ACME, name: Acme}]\n")
    output = run_demo()
    assert "Demo not loaded: the organisation 'Acme' is already configured" in output
    assert Response.objects.count() == 0 and not (home / "admin-login.txt").exists()


def test_an_admin_with_its_own_password_is_not_touched(home: Path) -> None:
    get_user_model().objects.create_superuser("admin", "ops@example.com", "chosen-by-the-operator")
    assert ensure_admin(home) is None
    assert authenticate(username="admin", password="chosen-by-the-operator") is not None


def test_the_admin_password_is_kept_across_runs(home: Path) -> None:
    first = ensure_admin(home)
    assert first is not None and demo_login(home) == first
    assert ensure_admin(home) == first
    assert (home / "admin-login.txt").stat().st_mode & 0o077 == 0


def test_no_login_before_the_demo(home: Path) -> None:
    assert demo_login(home) is None
