"""Historic imports: an imported response older than organization.alert_max_age when it arrives is stored,
evaluated and counted in the reports, but it sends no alert and opens no case; it says so in the API and on its
page. `closeloop ingest --historic` makes every new row historic. Through the API the age applies only when
`alert_max_age_for: everywhere` says so: a client posting the contract's example any day gets its case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import time_machine
import yaml
from django.core.management import call_command

from closeloop.actions.ingest import ingest_responses
from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.config.apply import apply_config
from closeloop.feedback.models import Response
from closeloop.feedback.store import IngestResult
from closeloop.notify.models import Delivery
from closeloop.reports.queries import loop_summary_for
from tests.config.configs import changed, problems_of
from tests.conftest import FIXTURES
from tests.web.conftest import ingest, login_as

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _arrived(age: timedelta, unit: str = "SUP-EMEA", *, imported: bool = True) -> Response:
    """A failed installation submitted `age` before it arrives at NOW, in an imported file (or not)."""
    item = {
        "survey": "upgrade-install",
        "external_id": f"late-{age.total_seconds():.0f}",
        "submitted_at": (NOW - age).isoformat(),
        "unit": unit,
        "segment": "SMB",
        "ticket": f"L-{age.total_seconds():.0f}",
        "customer": {"id": f"C-late-{age.total_seconds():.0f}", "name": "Pat Lee", "email": "pat@example.com",
                     "tier": "Gold", "contact_ok": True},
        "answers": {"ease": 2, "completed": False, "comment": "It failed twice."},
    }  # fmt: skip
    (outcome,) = ingest_responses([item], source="test", now=NOW, imported=imported)
    assert isinstance(outcome, IngestResult)
    return outcome.response


def test_a_response_older_than_the_alert_age_is_evaluated_and_counted_but_alerts_nobody(acme: None) -> None:
    old = _arrived(timedelta(days=7, seconds=1))
    assert old.historic and old.needs_recovery
    assert Alert.objects.filter(response=old, kind="recovery").exists()
    assert not Delivery.objects.exists()
    assert not Case.objects.filter(response=old).exists()
    day = (NOW - timedelta(days=7)).date()
    summary = loop_summary_for(day - timedelta(days=1), day)
    assert (summary.responses, summary.needing_recovery, summary.cases) == (1, 1, 0)
    assert [share.category for share in summary.alerts_by_category] == ["Installation issues"]


def test_a_response_within_the_alert_age_alerts_and_opens_a_case(acme: None) -> None:
    recent = _arrived(timedelta(days=7))
    assert not recent.historic
    assert Case.objects.filter(response=recent).exists()
    assert Delivery.objects.exists()


def test_a_historic_response_fixed_later_still_alerts_nobody(acme: None, api_as) -> None:
    old = _arrived(timedelta(days=30), unit="NOWHERE")
    assert old.historic and old.status == Response.Status.INVALID
    answer = api_as("write", "read").patch(f"/api/v1/responses/{old.pk}", {"unit": "SUP-EMEA"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "valid" and answer.json()["historic"] is True
    assert Alert.objects.filter(response=old).exists()
    assert not Case.objects.exists() and not Delivery.objects.exists()


def test_the_alert_age_is_configured(db: None) -> None:
    config = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    config["organization"]["alert_max_age"] = "30d"
    apply_config(yaml.safe_dump(config))
    assert not _arrived(timedelta(days=20)).historic
    assert _arrived(timedelta(days=31)).historic


def test_a_bad_alert_age_is_refused_naming_the_field() -> None:
    def set_age(value: str) -> object:
        return lambda data: data["organization"].__setitem__("alert_max_age", value)

    (zero,) = problems_of(changed(set_age("0s")))
    assert zero.startswith("organization.alert_max_age: ") and "longer than 0s" in zero
    (word,) = problems_of(changed(set_age("soon")))
    assert word.startswith("organization.alert_max_age: ")


def test_the_api_and_the_response_page_show_a_historic_response(acme: None, api_as) -> None:
    old = _arrived(timedelta(days=30))
    body = api_as("read").get(f"/api/v1/responses/{old.pk}").json()
    assert body["historic"] is True and body["case"] is None
    live = ingest(at=NOW)
    assert api_as("read").get(f"/api/v1/responses/{live.pk}").json()["historic"] is False
    page = login_as("admin").get(f"/responses/{old.pk}").content.decode()
    assert "Historic" in page and "none was sent and no case was opened" in page


def test_ingest_historic_makes_every_new_row_historic(acme: None, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "survey,external_id,submitted_at,unit,segment,customer_id,customer_tier,ease,completed\n"
        "upgrade-install,h-1,2026-12-01T14:00:00Z,SUP-EMEA,SMB,C-h1,Gold,2,no\n"
        "upgrade-install,h-2,2026-12-01T14:30:00Z,SUP-EMEA,SMB,C-h2,Gold,9,yes\n",
        encoding="utf-8",
    )
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("ingest", str(path), "--historic", stdout=out)
    assert "created:  2" in out.getvalue() and "historic: 2" in out.getvalue()
    assert set(Response.objects.values_list("historic", flat=True)) == {True}
    assert Response.objects.get(external_id="h-1").needs_recovery
    assert not Case.objects.exists() and not Delivery.objects.exists()
    # Without the flag, the same day's rows alert as usual.
    path.write_text(
        "survey,external_id,submitted_at,unit,segment,customer_id,customer_tier,ease,completed\n"
        "upgrade-install,h-3,2026-12-01T14:00:00Z,SUP-EMEA,SMB,C-h3,Gold,2,no\n",
        encoding="utf-8",
    )
    with time_machine.travel(NOW, tick=False):
        call_command("ingest", str(path), stdout=StringIO())
    assert Case.objects.filter(response__external_id="h-3").exists()


def test_an_old_response_posted_through_the_api_alerts_and_opens_its_case(acme: None, api_as) -> None:
    """The contract's example body carries a fixed `submitted_at`: posted weeks later, it still opens a case."""
    with time_machine.travel(NOW, tick=False):
        posted = api_as("ingest").post(
            "/api/v1/responses",
            {
                "survey": "upgrade-install",
                "external_id": "sm-88213",
                "submitted_at": "2026-11-03T10:04:00Z",
                "unit": "SUP-EMEA",
                "segment": "SMB",
                "customer": {"id": "C-77", "name": "Pat Lee", "tier": "Gold", "contact_ok": True},
                "answers": {"ease": 3, "completed": False, "comment": "It failed twice."},
            },
        )
    assert posted.status_code == 201, posted.content
    response = Response.objects.get(external_id="sm-88213")
    assert not response.historic
    assert Case.objects.filter(response=response).exists() and Delivery.objects.exists()


def test_the_age_applies_to_every_way_in_when_configured(db: None) -> None:
    config = yaml.safe_load((FIXTURES / "acme.yaml").read_text())
    config["organization"]["alert_max_age_for"] = "everywhere"
    apply_config(yaml.safe_dump(config))
    old = _arrived(timedelta(days=8), imported=False)
    assert old.historic and not Case.objects.exists() and not Delivery.objects.exists()
    assert not _arrived(timedelta(days=6), imported=False).historic


def test_the_age_is_for_files_unless_configured_otherwise(acme: None) -> None:
    assert not _arrived(timedelta(days=30), imported=False).historic
    (wrong,) = problems_of(changed(lambda data: data["organization"].__setitem__("alert_max_age_for", "api")))
    assert wrong.startswith("organization.alert_max_age_for: ")
