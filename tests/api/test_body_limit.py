"""Bodies over 1 MiB get 413 with the JSON error body, whether or not they declare their length."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from tests.api.conftest import create_token, response_body
from tests.api.test_auth import assert_error

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


class CountingStream(io.BytesIO):
    """A request stream that remembers how much was read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def chunked_post(token: str, stream: io.BytesIO):
    """A POST whose body has no Content-Length, as gunicorn passes on a chunked upload."""
    return Client().generic(
        "POST",
        "/api/v1/responses",
        b"",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        **{
            "wsgi.input": stream,
            "wsgi.input_terminated": True,
            "CONTENT_LENGTH": "",
            "HTTP_TRANSFER_ENCODING": "chunked",
        },
    )


def test_a_2_mib_body_gets_413(org):
    token = create_token(["ingest"])
    body = json.dumps(response_body(interviewer_notes="x" * (2 * MIB))).encode()
    response = Client().post(
        "/api/v1/responses", body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    body = assert_error(response, 413)
    assert "1 MiB" in body["detail"]


def test_a_413_does_not_need_a_token(org):
    response = Client().post("/api/v1/responses", b"x" * (MIB + 1), content_type="application/json")
    assert_error(response, 413)


def test_a_chunked_2_mib_body_gets_413_after_reading_one_byte_past_the_limit(org):
    stream = CountingStream(b"x" * (2 * MIB))
    response = chunked_post(create_token(["ingest"]), stream)
    assert_error(response, 413)
    assert stream.bytes_read == MIB + 1


def test_a_chunked_body_within_the_limit_reaches_the_view(org):
    stream = CountingStream(b'{"survey": "upgrade-install", "external_id": "c-1"}')
    response = chunked_post(create_token(["ingest"]), stream)
    body = assert_error(response, 422)
    # The view saw the body: it complains about the missing answers, not about an empty body.
    assert [e["loc"] for e in body["errors"]] == [["answers"]]


def test_a_body_of_exactly_1_mib_is_not_refused_for_its_size(org):
    token = create_token(["ingest"])
    padding = "x" * (MIB - len(json.dumps(response_body(interviewer_notes=""))))
    body = json.dumps(response_body(interviewer_notes=padding)).encode()
    assert len(body) == MIB
    response = Client().post(
        "/api/v1/responses", body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code != 413
