"""Shared pieces of the connector tests: the payload files, a survey, signing as each tool signs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from closeloop.connectors import Inbound, SourceSpec, Survey, Translation, load_source
from closeloop.connectors.base import Fetch
from closeloop.core.answers import QuestionSpec

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "payloads"
NOW = datetime(2026, 11, 23, 10, 4, tzinfo=UTC)
SECRET = "s3cret-for-tests"
# A Standard Webhooks secret: whsec_ + base64 of the key bytes.
WHSEC = "whsec_" + base64.b64encode(b"formbricks-test-key-32-bytes-long").decode()


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def payload_json(name: str) -> Any:
    return json.loads(payload(name))


def jsonl(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in payload(name).decode().splitlines() if line.strip()]


def b64_hmac(key: str | bytes, message: bytes, algorithm: str = "sha256") -> str:
    raw = key.encode() if isinstance(key, str) else key
    return base64.b64encode(hmac.new(raw, message, getattr(hashlib, algorithm)).digest()).decode()


def hex_hmac(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def source(tool: str, secret: str = SECRET, **fields: Any) -> SourceSpec:
    return load_source({"key": f"{tool}-test", "tool": tool, "survey": "csat", "secret": secret, **fields})


def q(
    key: str, kind: str, low: float | None = None, high: float | None = None, options: tuple[str, ...] = ()
) -> QuestionSpec:
    return QuestionSpec(key=key, type=kind, min=low, max=high, options=options)


@pytest.fixture
def csat() -> Survey:
    """A support CSAT survey: a 1-5 score (the overall question), a yes/no, a comment."""
    return Survey(
        "csat",
        {
            "score": q("score", "scale", 1, 5),
            "resolved": q("resolved", "yes_no"),
            "comment": q("comment", "text"),
        },
        overall="score",
    )


@pytest.fixture
def nps() -> Survey:
    return Survey("csat", {"likely": q("likely", "nps"), "comment": q("comment", "text")}, overall="likely")


def no_fetch(url: str, headers: Any) -> bytes:
    raise AssertionError(f"this tool must not fetch anything, fetched {url}")


def translate(spec: SourceSpec, inbound: Inbound, survey: Survey, fetch: Fetch = no_fetch) -> Translation:
    return spec.connector.translate(inbound, spec, survey=survey, fetch=fetch)


def inbound(
    body: bytes | str, headers: dict[str, str] | None = None, query: str = "", content_type: str = "application/json"
) -> Inbound:
    return Inbound.build(body, {"Content-Type": content_type, **(headers or {})}, query=query, received_at=NOW)
