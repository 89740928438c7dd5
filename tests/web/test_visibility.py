"""Every page shows only what the viewer's units allow; admins and superusers see everything."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from closeloop.cases.models import Case
from closeloop.org.models import Person
from closeloop.web.permissions import person_for, viewer_for
from tests.web.conftest import PASSWORD, ingest


def test_person_for_is_the_person_behind_the_login(erin: Client) -> None:
    request = RequestFactory().get("/")
    request.user = Person.objects.get(key="erin").user
    assert person_for(request).key == "erin"  # type: ignore[union-attr]


def test_a_lead_sees_their_subtree_only(acme: None, ursula: Client, erin: Client, failed_install: Case) -> None:
    us_case = Case.objects.get(response=ingest(unit="SUP-US", name="Uma States"))
    response_id = failed_install.response_id
    assert ursula.get(f"/responses/{response_id}").status_code == 404
    assert ursula.get(f"/cases/{failed_install.pk}").status_code == 404
    assert b"Pat Lee" not in ursula.get("/responses/").content
    assert b"Uma States" in ursula.get("/responses/").content
    assert ursula.get(f"/cases/{us_case.pk}").status_code == 200
    assert erin.get(f"/cases/{us_case.pk}").status_code == 404
    assert b"Uma States" not in erin.get("/?scope=all").content


def test_an_admin_role_sees_every_unit(admin_client_acme: Client, failed_install: Case) -> None:
    us_response = ingest(unit="SUP-US", name="Uma States")
    assert admin_client_acme.get(f"/responses/{us_response.pk}").status_code == 200
    assert admin_client_acme.get(f"/cases/{failed_install.pk}").status_code == 200


def test_a_superuser_without_a_person_sees_everything(failed_install: Case) -> None:
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client = Client()
    client.login(username="root", password=PASSWORD)
    assert client.get(f"/responses/{failed_install.response_id}").status_code == 200
    assert client.get("/outbox/").status_code == 200


def test_an_account_that_is_no_person_sees_nothing(failed_install: Case) -> None:
    get_user_model().objects.create_user("operator", "op@example.com", PASSWORD)
    client = Client()
    client.login(username="operator", password=PASSWORD)
    assert client.get(f"/responses/{failed_install.response_id}").status_code == 404
    assert b"Pat Lee" not in client.get("/responses/").content
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="operator")
    assert not viewer_for(request).units.exists()  # type: ignore[union-attr]


@pytest.mark.parametrize("url", ["/outbox/"])
def test_admin_pages_are_refused_to_leads(erin: Client, url: str) -> None:
    assert erin.get(url).status_code == 403
