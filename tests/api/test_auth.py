"""Bearer tokens: 401 without a valid one, 403 without the scope, last use recorded at most once a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from closeloop.api.auth import TokenAuth
from closeloop.api.models import ApiToken, hash_token
from tests.api.conftest import create_token, response_body

pytestmark = pytest.mark.django_db

LIST = "/api/v1/responses"


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    return body


def test_a_request_without_a_token_gets_401_with_a_json_body(org):
    body = assert_error(Client().get(LIST), 401)
    assert "Bearer" in body["detail"]


def test_401_names_the_bearer_scheme_in_www_authenticate(org):
    assert Client().get(LIST)["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_gets_401(org):
    assert_error(Client().get(LIST, headers={"Authorization": "Bearer cl_not-a-real-token"}), 401)


def test_a_token_under_another_scheme_gets_401(org):
    token = create_token(["read"])
    assert_error(Client().get(LIST, headers={"Authorization": f"Token {token}"}), 401)


def test_a_revoked_token_gets_401(org):
    token = create_token(["read"])
    ApiToken.objects.filter(token_hash=hash_token(token)).update(revoked_at=timezone.now())
    assert_error(Client().get(LIST, headers={"Authorization": f"Bearer {token}"}), 401)


def test_a_token_of_a_person_removed_from_the_configuration_gets_401(org):
    erin = org["people"]["erin"]
    token = create_token(["read"], person=erin)
    erin.active = False
    erin.save()
    assert_error(Client().get(LIST, headers={"Authorization": f"Bearer {token}"}), 401)


def test_a_valid_token_with_the_scope_is_accepted(org):
    token = create_token(["read"])
    assert Client().get(LIST, headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        (["read", "write"], "POST", LIST),
        (["ingest"], "GET", LIST),
        (["ingest", "read"], "PATCH", f"{LIST}/1"),
    ],
)
def test_a_token_without_the_needed_scope_gets_403_naming_the_scope(org, scopes, method, path):
    token = create_token(scopes)
    response = Client().generic(
        method, path, b"{}", content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    body = assert_error(response, 403)
    needed = {"POST": "ingest", "GET": "read", "PATCH": "write"}[method]
    assert f"`{needed}`" in body["detail"]


def test_403_is_answered_before_the_body_is_looked_at(org):
    token = create_token(["read"])
    response = Client().post(
        LIST, b"{not json", content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, 403)


def test_last_use_is_recorded_at_most_once_a_minute(org):
    token = create_token(["read"])
    headers = {"Authorization": f"Bearer {token}"}
    stored = ApiToken.objects.get(token_hash=hash_token(token))
    assert stored.last_used_at is None
    with time_machine.travel("2026-11-23T10:00:00Z", tick=False):
        Client().get(LIST, headers=headers)
    stored.refresh_from_db()
    first = stored.last_used_at
    assert first == timezone.now().replace(year=2026, month=11, day=23, hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel("2026-11-23T10:00:59Z", tick=False):
        Client().get(LIST, headers=headers)
    stored.refresh_from_db()
    assert stored.last_used_at == first
    with time_machine.travel("2026-11-23T10:01:00Z", tick=False):
        Client().get(LIST, headers=headers)
    stored.refresh_from_db()
    assert stored.last_used_at == first + timedelta(minutes=1)


def test_request_auth_is_the_token_with_its_person(org, rf):
    erin = org["people"]["erin"]
    token = create_token(["read"], person=erin)
    request = rf.get(LIST, headers={"Authorization": f"Bearer {token}"})
    found = TokenAuth("read")(request)
    assert isinstance(found, ApiToken)
    assert found.person == erin


def test_declaring_an_unknown_scope_fails_at_import_time():
    with pytest.raises(ValueError, match="delete"):
        TokenAuth("delete")


def test_a_created_response_needs_only_the_ingest_scope(org):
    token = create_token(["ingest"])
    response = Client().post(
        LIST, response_body(), content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.content
