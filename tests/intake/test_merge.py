"""Tools that send one response in several requests (Delighted's score then comment, a changed Zendesk
rating): the later request completes the stored response and evaluates it again, never raising the same
alert twice nor opening a second case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case, CaseEvent
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery
from tests.intake.conftest import payload_json, post_hook

pytestmark = pytest.mark.usefixtures("hooks")


def delighted_phases(comment: str | None = None) -> tuple[str, str]:
    """The score as Delighted sends it the moment it is given, and the update with the comment."""
    later = payload_json("delighted_webhook_non_promoter_zulip.json")
    if comment is not None:
        later["event_data"]["comment"] = comment
    first = json.loads(json.dumps(later))
    first["event_type"] = "survey_response.created"
    first["event_id"] = "evt-created"
    first["event_data"]["comment"] = None
    return json.dumps(first), json.dumps(later)


def zendesk(score: str, group: str = "Support EMEA", comment: str = "Nobody called back.") -> str:
    body: dict[str, Any] = {
        "satisfaction_rating": {"ticket_id": "4711", "score": score, "comment": comment},
        "ticket": {"group": group},
        "requester": {"id": "90210", "name": "Pat Lee", "email": "pat@example.com"},
    }
    return json.dumps(body)


def test_delighted_the_comment_completes_the_response_without_a_second_alert_or_case() -> None:
    created, updated = delighted_phases()
    first = post_hook("nps-delighted", created)
    assert first.body["responses"][0]["outcome"] == "created"
    response = Response.objects.get()
    assert response.answers == {"recommend": 5}
    assert list(response.alerts.values_list("rule_key", flat=True)) == ["threshold"]
    case = Case.objects.get(response=response)
    messages = Delivery.objects.count()

    second = post_hook("nps-delighted", updated)
    assert second.status == 200
    assert second.body["responses"] == [
        {"id": response.pk, "external_id": "5435", "outcome": "updated", "status": "valid", "problems": []}
    ]
    merged = Response.objects.get()
    assert merged.answers == {
        "recommend": 5,
        "comment": "Your service is slow, but nearly flawless! Keep up the good work!",
    }
    assert merged.received_at == response.received_at
    assert merged.submitted_at == response.submitted_at
    assert merged.updated_at is not None and merged.updated_at > response.received_at
    assert merged.overall == 5
    assert Alert.objects.count() == 1
    assert list(Case.objects.values_list("pk", flat=True)) == [case.pk]
    assert Delivery.objects.count() == messages  # nobody is alerted twice about one score
    # Delighted retrying either phase changes nothing.
    assert post_hook("nps-delighted", created).body["outcome"] == "duplicate"
    assert post_hook("nps-delighted", updated).body["outcome"] == "duplicate"
    assert Response.objects.get().answers == merged.answers


def test_delighted_a_comment_that_newly_matches_a_rule_raises_only_that_alert_on_the_same_case() -> None:
    created, updated = delighted_phases(comment="Slow again. I will cancel my plan.")
    post_hook("nps-delighted", created)
    case = Case.objects.get()
    before = set(Delivery.objects.values_list("pk", flat=True))
    post_hook("nps-delighted", updated)
    response = Response.objects.get()
    assert sorted(response.alerts.values_list("rule_key", flat=True)) == ["churn-words", "threshold"]
    assert list(Case.objects.values_list("pk", flat=True)) == [case.pk]
    new_messages = Delivery.objects.exclude(pk__in=before)
    assert new_messages.exists()
    assert set(new_messages.values_list("alert__rule_key", flat=True)) == {"churn-words"}


def test_delighted_an_update_that_arrives_first_creates_the_response() -> None:
    _, updated = delighted_phases()
    assert post_hook("nps-delighted", updated).body["responses"][0]["outcome"] == "created"
    assert Response.objects.get().answers["comment"].startswith("Your service is slow")


def test_zendesk_a_changed_rating_updates_the_response_and_raises_what_newly_matches() -> None:
    post_hook("support-zendesk", zendesk("bad"))
    response = Response.objects.get(external_id="zendesk-ticket-4711")
    assert (response.answers["score"], response.needs_recovery) == (1, True)
    assert list(response.alerts.values_list("rule_key", flat=True)) == ["threshold"]
    post_hook("support-zendesk", zendesk("good", comment="They called back and fixed it."))
    changed = Response.objects.get(external_id="zendesk-ticket-4711")
    assert changed.answers == {"score": 10, "comment": "They called back and fixed it."}
    assert changed.overall == 10
    # The earlier alert stays on record; the praise is new; the case is the one it had.
    assert sorted(changed.alerts.values_list("rule_key", flat=True)) == ["kudos", "threshold"]
    assert Case.objects.filter(response=changed).count() == 1
    assert Response.objects.count() == 1


def test_zendesk_a_later_rating_from_another_group_moves_the_response_and_its_case() -> None:
    post_hook("support-zendesk", zendesk("bad"))
    case = Case.objects.get()
    assert case.unit.code == "SUP-EMEA"
    post_hook("support-zendesk", zendesk("bad", group="Support US", comment="Still waiting."))
    response = Response.objects.get()
    assert response.unit.code == "SUP-US"
    case.refresh_from_db()
    assert case.unit.code == "SUP-US"
    moved = CaseEvent.objects.get(case=case, type="moved")
    assert (moved.data["from_unit"], moved.data["to_unit"]) == ("SUP-EMEA", "SUP-US")
    assert set(Alert.objects.values_list("unit__code", flat=True)) == {"SUP-US"}


def test_zendesk_a_quarantined_response_takes_the_later_units_group_and_is_evaluated_then() -> None:
    post_hook("support-zendesk", zendesk("bad", group="Billing"))
    response = Response.objects.get()
    assert response.status == "invalid"
    assert Alert.objects.count() == 0
    post_hook("support-zendesk", zendesk("bad", comment="Nobody called back, twice."))
    released = Response.objects.get()
    assert (released.status, released.unit.code, released.problems) == ("valid", "SUP-EMEA", [])
    assert released.valid_since is not None
    assert list(released.alerts.values_list("rule_key", flat=True)) == ["threshold"]
    assert Case.objects.filter(response=released).count() == 1


def test_a_later_unknown_group_leaves_a_valid_response_where_it_is_and_says_so() -> None:
    post_hook("support-zendesk", zendesk("bad"))
    post_hook("support-zendesk", zendesk("bad", group="Billing", comment="Hello?"))
    response = Response.objects.get()
    assert (response.status, response.unit.code) == ("valid", "SUP-EMEA")
    assert response.answers["comment"] == "Hello?"
    assert response.problems == ["map.unit: 'Billing' is not in the values table (it has 'support emea', 'support us')"]
