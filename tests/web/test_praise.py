"""The praise wall and sharing praise with the team by email."""

from __future__ import annotations

from django.test import Client

from closeloop.alerts.models import Alert
from closeloop.notify.models import Delivery
from tests.web.conftest import ingest

PRAISE = {"ease": 10, "completed": True, "comment": "Dave was brilliant, thank you!"}


def test_the_wall_shows_the_customers_words_and_who_was_praised(erin: Client) -> None:
    ingest(PRAISE)
    ingest(PRAISE | {"comment": "Americas were great."}, unit="SUP-US")
    page = erin.get("/praise/").content.decode()
    assert "Dave was brilliant, thank you!" in page
    assert "For <strong>Dave Agent</strong>" in page
    assert "Americas were great." not in page


def test_sharing_emails_the_unit_once(erin: Client) -> None:
    response = ingest(PRAISE)
    alert = Alert.objects.get(response=response, kind="praise")
    shared = erin.post(f"/praise/{alert.pk}/share", {"next": "/praise/"}, follow=True)
    deliveries = Delivery.objects.filter(topic="praise", alert=alert)
    assert sorted(d.person.key for d in deliveries) == ["dave", "erin", "sam"]
    assert all(d.status == "pending" and d.channel == "email" for d in deliveries)
    assert "Dave was brilliant, thank you!" in deliveries[0].text
    assert f"/responses/{response.pk}" in deliveries[0].text
    assert b"Shared with 3 people by email." in shared.content
    again = erin.post(f"/praise/{alert.pk}/share", follow=True)
    assert b"already shared" in again.content
    assert Delivery.objects.filter(topic="praise").count() == 3


def test_sharing_needs_a_visible_praise_alert(acme: None, erin: Client) -> None:
    us_alert = Alert.objects.get(response=ingest(PRAISE, unit="SUP-US"), kind="praise")
    assert erin.post(f"/praise/{us_alert.pk}/share").status_code == 404
    assert erin.get(f"/praise/{us_alert.pk}/share").status_code == 405
