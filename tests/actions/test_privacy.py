"""A customer's right to their data: `closeloop customer export` and `erase`, the audit log, and message retention."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from closeloop.audit.models import AuditEvent, AuditLogError
from closeloop.cases.models import Case, CaseEvent
from closeloop.cases.services import do_add_note
from closeloop.feedback.models import Customer, Response
from closeloop.feedback.recordings import attach, write_file
from closeloop.notify.models import Delivery
from closeloop.notify.privacy import purge_old_bodies
from closeloop.org.models import Person
from tests import factories

pytestmark = pytest.mark.usefixtures("acme")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def unhappy(external_id: str = "sm-1", customer_id: str = "C-77") -> Response:
    """A Gold customer who may be called could not install the upgrade, and said so to an interviewer."""
    return factories.ingest(
        {"ease": 2, "completed": False, "comment": "It failed twice and nobody called me back."},
        at=NOW,
        external_id=external_id,
        ticket=f"T-{external_id}",
        customer_id=customer_id,
        segment=None,
        agent=None,
        interviewer_notes="Sounded close to cancelling.",
    )


@pytest.fixture
def worked_case() -> Case:
    response = unhappy()
    case = Case.objects.get(response=response)
    do_add_note(case, text="Called Pat on +15555550123, will refund.", spoke_to_customer=True, actor=None, now=NOW)
    return case


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("customer", *args, stdout=out)
    return out.getvalue()


def test_export_prints_everything_stored_about_the_customer_and_is_audited(worked_case: Case) -> None:
    data = json.loads(run("export", "C-77"))
    assert data["customer"] == {
        "id": "C-77",
        "name": "Pat Lee",
        "email": "pat@example.com",
        "phone": "+15555550123",
        "tier": "Gold",
        "contact_ok": True,
        "updated_at": NOW.isoformat(),
    }
    (response,) = data["responses"]
    assert response["answers"]["comment"] == "It failed twice and nobody called me back."
    assert response["interviewer_notes"] == "Sounded close to cancelling."
    (case,) = data["cases"]
    assert case["id"] == worked_case.pk
    notes = [event["data"]["text"] for event in case["events"] if event["type"] == "note"]
    assert notes == ["Called Pat on +15555550123, will refund."]
    assert data["messages"], "the alert emails about the customer are part of what is stored"
    assert {"follow_ups", "activity"} <= set(data)
    (audit,) = AuditEvent.objects.filter(action="exported")
    assert audit.target == "customer:C-77" and audit.actor_name.startswith("command line")


def test_export_to_a_file_is_readable_by_its_owner_only(worked_case: Case, tmp_path: Path) -> None:
    path = tmp_path / "pat.json"
    assert f"wrote {path}" in run("export", "C-77", "--output", str(path))
    assert json.loads(path.read_text())["customer"]["id"] == "C-77"
    assert path.stat().st_mode & 0o077 == 0


def test_an_unknown_customer_exits_2_naming_the_argument() -> None:
    with pytest.raises(CommandError, match="customer_id: no customer 'C-404'") as error:
        run("export", "C-404")
    assert error.value.returncode == 2


def test_erase_removes_the_customers_identity_and_words_and_keeps_the_scores(worked_case: Case) -> None:
    response_id = worked_case.response_id
    output = run("erase", "C-77", "--yes")
    assert output.startswith("erased customer C-77: 1 responses, 1 cases, ")

    response = Response.objects.get(pk=response_id)
    assert response.answers == {"ease": 2, "completed": False, "comment": "erased"}
    assert response.interviewer_notes == "erased" and response.audio_url == ""
    assert (response.overall, response.needs_recovery) == (2.0, True)

    customer = Customer.objects.get(pk=response.customer_id)
    assert (customer.name, customer.email, customer.phone, customer.contact_ok) == ("", "", "", False)
    assert customer.external_id.startswith("erased-") and customer.tier == "Gold"
    assert not Customer.objects.filter(external_id="C-77").exists()

    # The timeline keeps every event; only the customer's words in the notes are gone.
    note = CaseEvent.objects.get(case=worked_case, type="note")
    assert note.redacted and note.data["text"] == "erased" and note.data["spoke_to_customer"] is True
    assert CaseEvent.objects.filter(case=worked_case).count() >= 2

    bodies = Delivery.objects.filter(alert__response_id=response_id)
    assert bodies.exists()
    assert set(bodies.values_list("text", flat=True)) == {"erased"}
    assert not Delivery.objects.filter(text__contains="nobody called me back").exists()
    assert not Delivery.objects.filter(address__in=["pat@example.com", "+15555550123"]).exists()

    (audit,) = AuditEvent.objects.filter(action="erased")
    assert audit.target == f"customer:{customer.external_id}" and audit.detail["responses"] == 1
    assert "C-77" not in json.dumps(audit.detail)


def test_erase_deletes_the_customers_recordings_from_disk(
    worked_case: Case, settings, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    settings.CLOSELOOP_HOME = tmp_path
    response = Response.objects.get(pk=worked_case.response_id)
    second = unhappy("sm-2")
    for each in (response, second):
        stored = write_file(each, [b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + b"\x00" * 400], "audio/mpeg")
        attach(each, stored)
    files = [tmp_path / "audio" / Response.objects.get(pk=each.pk).audio_file for each in (response, second)]
    assert all(path.is_file() for path in files)
    elsewhere = unhappy("sm-3", customer_id="C-78")
    write = write_file(elsewhere, [b"ID3\x04" + b"\x00" * 40], "audio/mpeg")
    attach(elsewhere, write)

    with django_capture_on_commit_callbacks(execute=True):
        output = run("erase", "C-77", "--yes")

    assert output.rstrip().endswith(", 2 recordings")
    assert not any(path.exists() for path in files)
    for each in Response.objects.filter(pk__in=[response.pk, second.pk]):
        assert (each.audio_file, each.audio_type, each.audio_url) == ("", "", "")
    # Another customer's recording stays.
    assert (tmp_path / "audio" / Response.objects.get(pk=elsewhere.pk).audio_file).is_file()
    (audit,) = AuditEvent.objects.filter(action="erased")
    assert audit.detail["recordings"] == 2


def test_erase_clears_the_details_each_response_kept_of_the_customer(worked_case: Case) -> None:
    run("erase", "C-77", "--yes")
    response = Response.objects.get(pk=worked_case.response_id)
    assert (response.customer_name, response.customer_email, response.customer_phone) == ("", "", "")
    assert response.contact_ok is False


def test_a_customer_who_answers_again_after_erasure_starts_a_new_record(worked_case: Case) -> None:
    run("erase", "C-77", "--yes")
    later = unhappy("sm-2")
    assert later.customer.external_id == "C-77" and later.customer.name == "Pat Lee"
    assert Customer.objects.count() == 2


def test_erase_asks_first_and_erases_nothing_without_a_yes(worked_case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CommandError, match="nothing was erased"):
        run("erase", "C-77")
    assert Customer.objects.get(external_id="C-77").name == "Pat Lee"


def test_the_audit_log_cannot_be_changed_or_deleted(worked_case: Case) -> None:
    run("export", "C-77")
    event = AuditEvent.objects.get()
    with pytest.raises(AuditLogError):
        event.save()
    with pytest.raises(AuditLogError):
        event.delete()
    with pytest.raises(AuditLogError):
        AuditEvent.objects.all().update(target="x")


def test_finished_messages_lose_their_bodies_after_the_retention_period(worked_case: Case, settings) -> None:
    settings.CLOSELOOP_MESSAGE_RETENTION = timedelta(days=30)
    Delivery.objects.update(status=Delivery.Status.SENT)
    with_bodies = Delivery.objects.exclude(text="", html="", payload={}).count()
    who_and_what = sorted(Delivery.objects.values_list("id", "address", "subject", "status", "sent_at"))
    assert with_bodies > 0
    assert purge_old_bodies(NOW + timedelta(days=29)) == 0
    assert purge_old_bodies(NOW + timedelta(days=31)) == with_bodies
    assert set(Delivery.objects.values_list("text", flat=True)) == {""}
    # The outbox still says who got which message and when.
    assert sorted(Delivery.objects.values_list("id", "address", "subject", "status", "sent_at")) == who_and_what
    assert purge_old_bodies(NOW + timedelta(days=31)) == 0


def test_messages_still_to_be_sent_keep_their_bodies_whatever_their_age(worked_case: Case, settings) -> None:
    settings.CLOSELOOP_MESSAGE_RETENTION = timedelta(days=30)
    Delivery.objects.update(status=Delivery.Status.PENDING)
    assert purge_old_bodies(NOW + timedelta(days=365)) == 0


def test_views_of_customer_data_are_audited_on_every_surface(worked_case: Case, api_as) -> None:
    from tests.web.conftest import login_as

    erin = Person.objects.get(key="erin")
    web = login_as("erin")
    assert web.get(f"/responses/{worked_case.response_id}").status_code == 200
    assert web.get(f"/cases/{worked_case.pk}").status_code == 200
    api = api_as("read", person=erin)
    assert api.get(f"/api/v1/responses/{worked_case.response_id}").status_code == 200
    assert api.get(f"/api/v1/cases/{worked_case.pk}").status_code == 200
    assert web.get("/reports/service-recovery.pdf?unit=SUP-EMEA&date=2026-11-23").status_code == 200
    seen = list(AuditEvent.objects.filter(action="viewed").values_list("target", "actor", "detail"))
    assert seen == [
        (f"response:{worked_case.response_id}", erin.pk, {"on": "web"}),
        (f"case:{worked_case.pk}", erin.pk, {"on": "web"}),
        (f"response:{worked_case.response_id}", erin.pk, {"on": "api"}),
        (f"case:{worked_case.pk}", erin.pk, {"on": "api"}),
        ("report:SUP-EMEA:2026-11-23", erin.pk, {"on": "pdf"}),
    ]


def test_the_audit_log_exports_as_json_lines_for_a_period(worked_case: Case) -> None:
    run("export", "C-77")
    out = io.StringIO()
    call_command("audit", "export", "--since", "2000-01-01", stdout=out)
    (line,) = out.getvalue().splitlines()
    entry = json.loads(line)
    assert (entry["action"], entry["target"]) == ("exported", "customer:C-77")
    out = io.StringIO()
    call_command("audit", "export", "--until", "2000-01-01", stdout=out)
    assert out.getvalue() == ""
    with pytest.raises(CommandError, match="--since"):
        call_command("audit", "export", "--since", "yesterday")
