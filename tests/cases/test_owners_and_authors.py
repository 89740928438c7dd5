"""A case's owner and its note authors are real people of the case: an owner from outside the case's team is
refused (the API as the web), and a note is shown as written by the signed-in person, a name given with it as
"on behalf of", next to them."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.cases.models import Case, CaseEvent
from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from tests.helpers import ApiClient, create_token
from tests.web.conftest import login_as

from .conftest import case_of, ingest

pytestmark = pytest.mark.usefixtures("acme")


def api(person: str | None, *scopes: str) -> ApiClient:
    owner = Person.objects.get(key=person) if person else None
    return ApiClient(create_token(list(scopes) or ["read", "write"], owner, name=f"crm-{person or 'service'}"))


@pytest.fixture
def case() -> Case:
    return case_of(ingest())


# --- owners ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("assigner", ["erin", None], ids=["lead", "service-token"])
def test_assigning_through_the_api_to_someone_outside_the_team_is_422_naming_the_owner(
    case: Case, assigner: str | None
) -> None:
    answer = api(assigner).post(f"/api/v1/cases/{case.pk}/assign", {"owner": "ursula"})
    assert answer.status_code == 422
    message = (
        "'ursula' is not in the case's team: the owner must hold a role in SUP-EMEA or a unit above it, "
        "or be one of the case's managers or members"
    )
    assert answer.json() == {"detail": f"Invalid owner: {message}", "errors": [{"loc": ["owner"], "msg": message}]}
    case.refresh_from_db()
    assert case.owner is None
    assert not case.events.filter(type="assigned").exists()


@pytest.mark.parametrize("owner", ["dave", "rita", "ceo"], ids=["member", "manager-above", "lead-at-the-top"])
def test_anyone_of_the_team_or_with_a_role_above_the_unit_can_own_it(case: Case, owner: str) -> None:
    answer = api("erin").post(f"/api/v1/cases/{case.pk}/assign", {"owner": owner})
    assert (answer.status_code, answer.json()["owner"]) == (200, owner)


def test_the_web_offers_and_accepts_the_same_people(case: Case) -> None:
    erin = login_as("erin")
    page = erin.get(f"/cases/{case.pk}").content.decode()
    assert '<option value="dave"' in page and '<option value="ursula"' not in page
    answer = erin.post(f"/cases/{case.pk}/assign", {"owner": "ursula"})
    assert answer.status_code == 422
    case.refresh_from_db()
    assert case.owner is None


def test_a_bulk_assignment_skips_the_cases_the_person_is_not_a_possible_owner_of(case: Case) -> None:
    us_case = case_of(ingest(unit="SUP-US"))
    admin = login_as("admin")
    answer = admin.post(
        "/cases/bulk", {"case": [case.pk, us_case.pk], "action": "assign", "assign-owner": "ursula"}, follow=True
    )
    assert f"Case #{case.pk}: &#x27;ursula&#x27; is not in the case&#x27;s team" in answer.content.decode()
    case.refresh_from_db()
    us_case.refresh_from_db()
    assert (case.owner, us_case.owner.key if us_case.owner else None) == (None, "ursula")


# --- note authors ---------------------------------------------------------------------------------------


def note_text(client: ApiClient, case: Case, **fields: object) -> dict:
    answer = client.post(f"/api/v1/cases/{case.pk}/notes", {"text": "Called Pat.", **fields})
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_a_note_through_the_api_is_the_tokens_persons_and_a_given_author_is_on_behalf_of(case: Case) -> None:
    note = note_text(api("dave"), case, author="Erin Diaz")
    assert (note["author"], note["on_behalf_of"], note["by"]) == ("Dave Agent", "Erin Diaz", "dave")
    event = CaseEvent.objects.get(pk=note["id"])
    assert event.data["author"] == "Dave Agent" and event.actor.key == "dave"
    erin = login_as("erin")
    assert "Dave Agent (on behalf of Erin Diaz)" in erin.get(f"/cases/{case.pk}").content.decode()
    notes_page = erin.get("/recovery-notes", {"response": case.response_id}).content.decode()
    assert '<strong>Dave Agent</strong> <span class="on-behalf">on behalf of Erin Diaz</span>' in notes_page


def test_without_a_given_author_the_note_is_simply_the_persons(case: Case) -> None:
    note = note_text(api("dave"), case)
    assert (note["author"], note["on_behalf_of"]) == ("Dave Agent", None)
    assert note_text(api("dave"), case, author="dave agent")["on_behalf_of"] is None


def test_a_service_token_writes_as_itself_and_a_given_name_is_on_behalf_of(case: Case) -> None:
    note = note_text(api(None), case, author="Erin Diaz")
    assert (note["author"], note["on_behalf_of"], note["by"]) == ("token crm-service", "Erin Diaz", None)
    # Without a name it writes as the unit's lead, as the API always said.
    assert note_text(api(None), case)["author"] == "Erin Diaz"


def test_messages_about_the_note_name_the_writer_and_on_behalf_of(case: Case) -> None:
    note_text(api("dave"), case, author="Front desk")
    mail = Delivery.objects.filter(channel="email", ref=f"case:{case.pk}", person__key="erin").order_by("-id").first()
    assert mail is not None and "Dave Agent (on behalf of Front desk) wrote" in mail.text


def test_the_timeline_names_the_writer_and_on_behalf_of(case: Case) -> None:
    note_text(api("dave"), case, author="Front desk")
    page = login_as("erin").get(f"/cases/{case.pk}").content.decode()
    assert "Dave Agent (on behalf of Front desk)" in page


def test_an_operator_account_writes_notes_as_itself(case: Case, django_user_model: type) -> None:
    django_user_model.objects.create_superuser("ops", "ops@acme.example", "x-very-secret-9", first_name="Olive")
    client = Client()
    client.force_login(django_user_model.objects.get(username="ops"))
    page = client.get(f"/cases/{case.pk}").content.decode()
    assert 'required value="Olive"' in page
    client.post(f"/cases/{case.pk}/notes", {"author": "Erin Diaz", "text": "Called."})
    note = CaseEvent.objects.get(case=case, type="note")
    assert (note.data["author"], note.data["on_behalf_of"], note.actor) == ("Olive", "Erin Diaz", None)
