"""The request as connectors see it, and the one HTTP choke point against a real local server."""

from __future__ import annotations

import socket

import pytest

from closeloop.connectors import FetchFailed, Headers, Inbound, http
from tests.connectors.tool_api import FakeApi, serve


def test_headers_are_case_insensitive_and_keep_their_spelling() -> None:
    headers = Headers([("Typeform-Signature", "sha256=x"), ("content-type", "application/json; charset=utf-8")])
    assert headers["typeform-signature"] == headers["TYPEFORM-SIGNATURE"] == "sha256=x"
    assert list(headers) == ["Typeform-Signature", "content-type"]
    assert Inbound.build(b"{}", headers).content_type == "application/json"


def test_query_strings_and_forms() -> None:
    inbound = Inbound.build(
        "a=1&b=&a=2&c=%E2%98%83", {"Content-Type": "application/x-www-form-urlencoded"}, query="token=t%2B1"
    )
    assert inbound.query == {"token": "t+1"}
    assert inbound.fields() == {"a": "2", "b": "", "c": "☃"}


def test_a_multipart_body_with_a_charset_and_a_file() -> None:
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nJos\xc3\xa9\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="latin"\r\n'
        b"Content-Type: text/plain; charset=latin-1\r\n\r\nJos\xe9\r\n"
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nline one\nline two\r\n'
        b"--XX--\r\n"
    )
    fields = Inbound.build(body, {"Content-Type": "multipart/form-data; boundary=XX"}).fields()
    assert fields == {"name": "José", "latin": "José", "file": "line one\nline two"}


def test_fetch_reads_the_body_and_sends_the_headers() -> None:
    with serve(FakeApi({"/r/1": (200, b'{"ok": true}')})) as api:
        assert http.fetch(api.base + "/r/1", {"Authorization": "Bearer t"}) == b'{"ok": true}'
        assert api.requests[0][1]["authorization"] == "Bearer t"
        assert api.requests[0][1]["user-agent"] == "closeloop-connectors"
        with pytest.raises(FetchFailed) as caught:
            http.fetch(api.base + "/missing", {})
        assert caught.value.reason.endswith("answered 404 Not Found")


def test_fetch_failures_name_the_host_not_the_headers() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(FetchFailed) as caught:
        http.fetch(f"http://127.0.0.1:{port}/x", {"Authorization": "Bearer secret-token"})
    assert caught.value.reason.startswith(f"127.0.0.1:{port} could not be reached")
    assert "secret-token" not in caught.value.reason


def test_fetch_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        with pytest.raises(FetchFailed, match="could not be reached"):
            http.fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/x", {}, timeout=0.3)
