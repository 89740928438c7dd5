"""GET /api/v1/responses and /api/v1/responses/{id}: shape, filters, pages, visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from urllib.parse import urlsplit

import pytest

from closeloop.alerts.models import Alert
from closeloop.feedback.models import Customer, Response, Survey
from closeloop.org.models import Unit
from tests.api.test_auth import assert_error

pytestmark = pytest.mark.django_db

LIST = "/api/v1/responses"
_numbers = count(1)
BASE_TIME = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def stored(unit: Unit | None, **fields: Any) -> Response:
    """A response row written directly, so these tests read exactly what they set up."""
    number = next(_numbers)
    values: dict[str, Any] = {
        "survey": Survey.objects.get(key="upgrade-install"),
        "external_id": f"r-{number}",
        "submitted_at": BASE_TIME - timedelta(minutes=number),
        "received_at": BASE_TIME,
        "unit": unit,
        "unit_code": unit.code if unit else "",
        "status": Response.Status.VALID if unit else Response.Status.INVALID,
        "problems": [] if unit else ["unit: missing; the response cannot be routed until a unit is set"],
        "answers": {"ease": 8},
        "overall": 8,
    }
    values.update(fields)
    return Response.objects.create(**values)


def ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


def test_a_response_shows_every_documented_field(org, api_as):
    customer = Customer.objects.create(
        external_id="C-77",
        name="Pat Lee",
        email="pat@example.com",
        phone="+15555550123",
        tier="Gold",
        contact_ok=True,
        updated_at=BASE_TIME,
    )
    response = stored(
        org["units"]["SUP-EMEA"],
        segment="SMB",
        agent=org["people"]["erin"],
        agent_code="erin",
        ticket="T 1/2",
        customer=customer,
        customer_name="Pat Lee",
        customer_email="pat@example.com",
        customer_phone="+15555550123",
        contact_ok=True,
        answers={"ease": 3, "completed": False},
        interviewer_notes="Close to cancelling.",
        interviewer_flag=True,
        audio_url="https://recordings.example.com/1.mp3",
        overall=3,
        needs_recovery=True,
    )
    alert = Alert.objects.create(
        response=response,
        rule_key="install-failed",
        kind="recovery",
        severity="high",
        category="Installation issues",
        unit=response.unit,
        created_at=BASE_TIME,
    )
    body = api_as("read").get(f"{LIST}/{response.pk}").json()
    assert body == {
        "id": response.pk,
        "survey": "upgrade-install",
        "external_id": response.external_id,
        "source": "api",
        "status": "valid",
        "problems": [],
        "submitted_at": body["submitted_at"],
        "received_at": body["received_at"],
        "updated_at": None,
        "unit": "SUP-EMEA",
        "segment": "SMB",
        "agent": "erin",
        "ticket": "T 1/2",
        "ticket_url": "https://support.example/t/T%201%2F2",
        "customer": {
            "id": "C-77",
            "name": "Pat Lee",
            "email": "pat@example.com",
            "phone": "+15555550123",
            "tier": "Gold",
            "contact_ok": True,
        },
        "answers": {"ease": 3, "completed": False},
        "interviewer_notes": "Close to cancelling.",
        "interviewer_flag": True,
        "audio_url": "https://recordings.example.com/1.mp3",
        "recording": None,
        "overall": 3.0,
        "needs_recovery": True,
        "historic": False,
        # No rule with a `text` condition asked: the text model has not judged it.
        "text_judgement": None,
        "superseded_by": None,
        "alerts": [
            {
                "id": alert.pk,
                "rule": "install-failed",
                "kind": "recovery",
                "severity": "high",
                "category": "Installation issues",
            }
        ],
        "case": None,
        "notes": [],
    }
    for name in ("submitted_at", "received_at"):
        parsed = datetime.fromisoformat(body[name])
        assert parsed.utcoffset() is not None, body[name]
    assert datetime.fromisoformat(body["submitted_at"]) == response.submitted_at


def test_a_quarantined_response_shows_the_unit_code_it_was_sent_with(org, api_as):
    response = stored(None, unit_code="ATLANTIS", problems=["unit: unknown unit 'ATLANTIS'"])
    body = api_as("read").get(f"{LIST}/{response.pk}").json()
    assert body["unit"] == "ATLANTIS"
    assert body["status"] == "invalid"
    assert body["problems"] == ["unit: unknown unit 'ATLANTIS'"]
    assert body["ticket_url"] is None


def test_the_list_is_newest_first_in_pages_of_50_with_absolute_next_links(org, api_as):
    made = [stored(org["units"]["SUP-UK"]) for _ in range(120)]
    newest_first = [r.pk for r in sorted(made, key=lambda r: r.submitted_at, reverse=True)]
    client = api_as("read")
    seen: list[int] = []
    url: str | None = f"http://testserver{LIST}?srn=y"
    pages = 0
    while url:
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.netloc == "testserver"
        page = client.client.get(f"{parts.path}?{parts.query}", headers=client._headers()).json()
        assert page["count"] == 120
        seen += ids(page)
        url = page["next"]
        pages += 1
    assert pages == 3
    assert seen == newest_first
    assert "srn=y" in client.get(LIST, srn="y").json()["next"]


def test_a_page_past_the_end_is_empty(org, api_as):
    stored(org["units"]["SUP-UK"])
    page = api_as("read").get(LIST, page="5").json()
    assert page == {"items": [], "count": 1, "next": None, "count_estimated": False}
    # Past what a database offset can address, too.
    far = api_as("read").get(LIST, page=str(2**62)).json()
    assert far == {"items": [], "count": 1, "next": None, "count_estimated": False}


def test_superseded_responses_are_hidden_unless_asked_for(org, api_as):
    newer = stored(org["units"]["SUP-UK"], ticket="T-1")
    older = stored(org["units"]["SUP-UK"], ticket="T-1", superseded_by=newer)
    client = api_as("read")
    assert ids(client.get(LIST).json()) == [newer.pk]
    assert ids(client.get(LIST, include_superseded="true").json()) == [newer.pk, older.pk]
    assert client.get(f"{LIST}/{older.pk}").json()["superseded_by"] == newer.pk


def test_the_unit_filter_includes_the_units_below(org, api_as):
    emea = stored(org["units"]["SUP-EMEA"])
    uk = stored(org["units"]["SUP-UK"])
    stored(org["units"]["SUP-AMER"])
    assert ids(api_as("read").get(LIST, unit="SUP-EMEA").json()) == [emea.pk, uk.pk]
    assert ids(api_as("read").get(LIST, unit="SUP-UK").json()) == [uk.pk]


def test_an_unknown_unit_in_the_filter_gets_422_naming_unit(org, api_as):
    body = assert_error(api_as("read").get(LIST, unit="ATLANTIS"), 422)
    assert body["errors"] == [{"loc": ["unit"], "msg": "unknown unit 'ATLANTIS'"}]


def test_the_date_filter_uses_the_organisations_day(org, api_as):
    # New York is UTC-5 in November: 03:00 UTC on the 23rd is still the evening of the 22nd there.
    late_evening = stored(org["units"]["SUP-UK"], submitted_at=datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    morning = stored(org["units"]["SUP-UK"], submitted_at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    stored(org["units"]["SUP-UK"], submitted_at=datetime(2026, 11, 24, 5, 0, tzinfo=UTC))
    client = api_as("read")
    assert ids(client.get(LIST, date="2026-11-22").json()) == [late_evening.pk]
    assert ids(client.get(LIST, date="2026-11-23").json()) == [morning.pk]


def test_ticket_survey_and_status_filters(org, api_as):
    other_survey = Survey.objects.create(key="onboarding", name="Onboarding")
    ticketed = stored(org["units"]["SUP-UK"], ticket="T-9")
    other = stored(org["units"]["SUP-UK"], survey=other_survey)
    invalid = stored(None)
    client = api_as("read")
    assert ids(client.get(LIST, ticket="T-9").json()) == [ticketed.pk]
    assert ids(client.get(LIST, survey="onboarding").json()) == [other.pk]
    assert ids(client.get(LIST, status="invalid").json()) == [invalid.pk]
    assert set(ids(client.get(LIST, status="valid").json())) == {ticketed.pk, other.pk}
    assert [e["loc"] for e in assert_error(client.get(LIST, survey="nope"), 422)["errors"]] == [["survey"]]
    assert [e["loc"] for e in assert_error(client.get(LIST, status="maybe"), 422)["errors"]] == [["status"]]


@pytest.mark.parametrize(
    ("srn", "expected"),
    [("y", {"happy", "unhappy"}), ("r", {"unhappy"}), ("x", {"unhappy"}), ("w", set()), ("v", set()), ("s", set())],
)
def test_the_srn_filter(org, api_as, srn, expected):
    made = {
        "happy": stored(org["units"]["SUP-UK"], needs_recovery=False),
        "unhappy": stored(org["units"]["SUP-UK"], needs_recovery=True, overall=2),
    }
    page = api_as("read").get(LIST, srn=srn).json()
    assert set(ids(page)) == {made[name].pk for name in expected}
    assert page["count"] == len(expected)


def visible_ids(client) -> set[int]:
    return set(ids(client.get(LIST).json()))


def test_a_lead_sees_only_their_subtree(org, api_as):
    emea = stored(org["units"]["SUP-EMEA"])
    uk = stored(org["units"]["SUP-UK"])
    amer = stored(org["units"]["SUP-AMER"])
    unplaced = stored(None)
    erin = api_as("read", person=org["people"]["erin"])
    assert visible_ids(erin) == {emea.pk, uk.pk}
    assert erin.get(f"{LIST}/{uk.pk}").status_code == 200
    for hidden in (amer, unplaced):
        body = assert_error(erin.get(f"{LIST}/{hidden.pk}"), 404)
        assert str(hidden.pk) in body["detail"]
    assert erin.get(LIST, unit="SUP-AMER").json()["count"] == 0


def test_an_admin_anywhere_and_a_service_token_see_everything(org, api_as):
    made = {stored(org["units"][code]).pk for code in ("SUP-EMEA", "SUP-UK", "SUP-AMER")} | {stored(None).pk}
    assert visible_ids(api_as("read", person=org["people"]["amy"])) == made
    assert visible_ids(api_as("read")) == made


def test_a_person_without_any_role_sees_nothing(org, api_as):
    stored(org["units"]["SUP-EMEA"])
    assert visible_ids(api_as("read", person=org["people"]["nora"])) == set()
