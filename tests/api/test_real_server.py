"""The body limit over real HTTP, through waitress (the server `closeloop run` embeds)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest
from django.core.wsgi import get_wsgi_application
from waitress.server import create_server

MIB = 1024 * 1024


@pytest.fixture
def server_port() -> Iterator[int]:
    server = create_server(get_wsgi_application(), host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(timeout=10)


def post(port: int, body, headers: dict[str, str], *, chunked: bool) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/v1/responses", body=body, headers=headers, encode_chunked=chunked)
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        connection.close()


def test_a_2_mib_body_with_a_length_gets_413_over_http(server_port):
    status, body = post(server_port, b"x" * (2 * MIB), {"Content-Type": "application/json"}, chunked=False)
    assert status == 413
    assert "1 MiB" in body["detail"]


def test_a_2_mib_chunked_body_gets_413_over_http(server_port):
    chunks = (b"x" * 65536 for _ in range(32))
    status, body = post(server_port, chunks, {"Content-Type": "application/json"}, chunked=True)
    assert status == 413
    assert body["errors"] == [{"loc": [], "msg": f"at most {MIB} bytes"}]
