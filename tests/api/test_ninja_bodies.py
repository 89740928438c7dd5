"""Routers that let Ninja validate a body schema get the same error shape as the responses endpoints."""

from __future__ import annotations

import pytest
from ninja import Schema
from ninja.testing import TestClient

from closeloop.api.app import CloseloopAPI
from closeloop.api.errors import install_error_handlers


class Inner(Schema):
    level: int


class NoteIn(Schema):
    text: str
    spoke_to_customer: bool
    inner: Inner | None = None


def make_client() -> TestClient:
    api = CloseloopAPI(urls_namespace="ninja-bodies-test")
    install_error_handlers(api)

    @api.post("/notes")
    def add_note(request, payload: NoteIn, page: int = 1) -> dict:
        return {"text": payload.text}

    return TestClient(api)


@pytest.fixture
def client() -> TestClient:
    return make_client()


def test_errors_name_fields_as_the_client_sent_them(client):
    response = client.post("/notes?page=x", json={"text": 1, "inner": {"level": "high"}})
    assert response.status_code == 422
    body = response.json()
    assert sorted(e["loc"] for e in body["errors"]) == [["inner", "level"], ["page"], ["spoke_to_customer"], ["text"]]
    assert body["detail"] == "Invalid input: text, spoke_to_customer, inner.level, page."


def test_malformed_json_is_422_not_400(client):
    response = client.post("/notes", data=b'{"text": ', content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Malformed JSON")


def test_a_valid_body_reaches_the_view(client):
    response = client.post("/notes", json={"text": "Called", "spoke_to_customer": True})
    assert response.status_code == 200
    assert response.json() == {"text": "Called"}


def test_a_missing_body_is_named_as_the_body(client):
    response = client.post("/notes", data=b"", content_type="application/json")
    assert response.status_code == 422
    assert response.json() == {"detail": "Invalid input: body.", "errors": [{"loc": [], "msg": "Field required"}]}
