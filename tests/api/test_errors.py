"""Every failure under /api/ answers {"detail", "errors": [{"loc", "msg"}]}, never HTML or a traceback."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.api.routers import responses as responses_router
from tests.api.test_auth import assert_error

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_gets_a_json_404(org, api_as):
    body = assert_error(api_as("read").get("/api/v1/no-such-thing"), 404)
    assert body["detail"] == "Not found."


def test_an_unknown_response_id_gets_a_json_404(org, api_as):
    body = assert_error(api_as("read").get("/api/v1/responses/999999"), 404)
    assert "999999" in body["detail"]


def test_a_non_numeric_response_id_gets_a_json_404(org, api_as):
    assert_error(api_as("read").get("/api/v1/responses/abc"), 404)


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/v1/responses"), ("PUT", "/api/v1/responses/1")])
def test_a_wrong_method_gets_a_json_405_with_allow(org, api_as, method, path):
    response = api_as("read", "write", "ingest").send(method, path, {})
    body = assert_error(response, 405)
    assert method in body["detail"]
    assert "GET" in response["Allow"]


def test_a_crash_gets_a_json_500_without_the_traceback(org, api_as, monkeypatch, caplog):
    def explode():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(responses_router, "responses_for_api", explode)
    response = api_as("read").get("/api/v1/responses")
    body = assert_error(response, 500)
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["detail"].startswith("Internal server error")
    assert "secret internals" in caplog.text


def test_a_crash_stays_json_with_debug_on(org, api_as, monkeypatch, settings):
    settings.DEBUG = True

    def explode():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(responses_router, "responses_for_api", explode)
    response = api_as("read").get("/api/v1/responses")
    assert_error(response, 500)
    assert "secret internals" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [({"srn": "q"}, "srn"), ({"page": "0"}, "page"), ({"page": "two"}, "page"), ({"date": "23/11/2026"}, "date")],
)
def test_a_bad_query_parameter_gets_422_naming_it(org, api_as, query, field):
    body = assert_error(api_as("read").get("/api/v1/responses", **query), 422)
    assert [e["loc"] for e in body["errors"]] == [[field]]
    assert field in body["detail"]


def test_malformed_json_gets_422_with_a_clear_detail(org, api_as):
    body = assert_error(api_as("ingest").post("/api/v1/responses", raw=b'{"survey": "upgrade-install",'), 422)
    assert body["detail"].startswith("Malformed JSON")
    assert "line 1" in body["detail"]


def test_an_empty_body_gets_422(org, api_as):
    body = assert_error(api_as("ingest").post("/api/v1/responses", raw=b""), 422)
    assert "empty" in body["detail"]


def test_a_body_that_is_not_utf8_gets_422(org, api_as):
    body = assert_error(api_as("ingest").post("/api/v1/responses", raw=b'{"survey": "\xff"}'), 422)
    assert body["detail"].startswith("Malformed JSON")


def test_a_json_array_body_gets_422_saying_an_object_is_needed(org, api_as):
    body = assert_error(api_as("ingest").post("/api/v1/responses", [1, 2]), 422)
    assert body["detail"] == "The body must be a JSON object."
    assert body["errors"][0]["msg"] == "expected an object, got an array"


def test_non_api_paths_keep_django_pages(org):
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_a_crash_outside_an_endpoint_is_json_too(org, monkeypatch, caplog):
    from closeloop.api.app import CloseloopAPI

    def explode(self, **kwargs):
        raise RuntimeError("secret schema internals")

    monkeypatch.setattr(CloseloopAPI, "get_openapi_schema", explode)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/openapi.json")
    body = assert_error(response, 500)
    assert "secret" not in response.content.decode()
    assert body["detail"].startswith("Internal server error")
    assert "secret schema internals" in caplog.text
