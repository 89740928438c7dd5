"""Every tool's signature or token scheme: the right one passes, everything else is refused as it should be."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from closeloop.connectors import Inbound, SignatureInvalid, StaleTimestamp
from tests.connectors.conftest import NOW, SECRET, WHSEC, b64_hmac, hex_hmac, inbound, source

BODY = b'{"probe": "the body must never be quoted in an error", "n": 1}'

Signer = Callable[[bytes, str, datetime], tuple[dict[str, str], str]]


@dataclass
class Scheme:
    tool: str
    sign: Signer
    headers: tuple[str, ...]  # each one is required
    secret: str = SECRET
    timestamped: bool = False
    signs_body: bool = True
    fields: dict[str, Any] = field(default_factory=dict)


def _typeform(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    return {"Typeform-Signature": "sha256=" + b64_hmac(secret, body)}, ""


def _formbricks(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    import base64

    key = base64.b64decode(secret.removeprefix("whsec_"))
    stamp = str(int(when.timestamp()))
    signature = b64_hmac(key, f"msg_2Kd8.{stamp}.".encode() + body)
    return {"webhook-id": "msg_2Kd8", "webhook-timestamp": stamp, "webhook-signature": f"v1,{signature}"}, ""


def _delighted(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    return {"X-Delighted-Webhook-Signature": "sha256=" + hex_hmac(secret, body)}, ""


def _surveymonkey(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    return {"Sm-Apikey": "client-123", "Sm-Signature": b64_hmac(f"client-123&{secret}", body, "sha1")}, ""


def _zendesk(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "X-Zendesk-Webhook-Signature": b64_hmac(secret, stamp.encode() + body),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }, ""


def _tally(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    return {"Tally-Signature": b64_hmac(secret, body)}, ""


def _google(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    stamp = str(int(when.timestamp()))
    return {
        "X-Closeloop-Timestamp": stamp,
        "X-Closeloop-Signature": "v1=" + b64_hmac(secret, stamp.encode() + b"." + body),
    }, ""


def _token_header(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    return {"X-Closeloop-Token": secret}, ""


def _token_query(body: bytes, secret: str, when: datetime) -> tuple[dict[str, str], str]:
    return {}, f"token={secret}"


SM_OPTIONS = {"options": {"client_id": "client-123", "access_token": "sm-token"}}
SCHEMES = [
    Scheme("typeform", _typeform, ("Typeform-Signature",)),
    Scheme("formbricks", _formbricks, ("webhook-id", "webhook-timestamp", "webhook-signature"), WHSEC, True),
    Scheme("delighted", _delighted, ("X-Delighted-Webhook-Signature",)),
    Scheme("surveymonkey", _surveymonkey, ("Sm-Apikey", "Sm-Signature"), fields=SM_OPTIONS),
    Scheme(
        "zendesk", _zendesk, ("X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp"), timestamped=True
    ),
    Scheme("tally", _tally, ("Tally-Signature",)),
    Scheme("google_forms", _google, ("X-Closeloop-Timestamp", "X-Closeloop-Signature"), timestamped=True),
    Scheme("freshdesk", _token_header, (), signs_body=False),
    Scheme("jotform", _token_query, (), signs_body=False),
    Scheme("qualtrics", _token_query, (), signs_body=False),
]
BY_TOOL = {scheme.tool: scheme for scheme in SCHEMES}
SIGNED = [scheme for scheme in SCHEMES if scheme.signs_body]
TIMESTAMPED = [scheme for scheme in SCHEMES if scheme.timestamped]


def request(scheme: Scheme, body: bytes = BODY, *, secret: str | None = None, when: datetime = NOW) -> Inbound:
    headers, query = scheme.sign(body, secret or scheme.secret, when)
    return inbound(body, headers, query=query)


def verify(scheme: Scheme, request: Inbound, now: datetime = NOW, **fields: Any) -> None:
    spec = source(scheme.tool, scheme.secret, **{**scheme.fields, **fields})
    spec.connector.verify(request, spec, now)


def refused(scheme: Scheme, request: Inbound, kind: type[Exception] = SignatureInvalid, **fields: Any) -> str:
    with pytest.raises(kind) as caught:
        verify(scheme, request, **fields)
    assert type(caught.value) is kind
    assert "never be quoted" not in caught.value.reason
    assert scheme.secret not in caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.tool)
def test_the_right_signature_passes(scheme: Scheme) -> None:
    verify(scheme, request(scheme))


@pytest.mark.parametrize("scheme", SIGNED, ids=lambda s: s.tool)
def test_a_changed_body_is_refused(scheme: Scheme) -> None:
    headers, query = scheme.sign(BODY, scheme.secret, NOW)
    tampered = inbound(BODY.replace(b'"n": 1', b'"n": 2'), headers, query=query)
    assert "does not match" in refused(scheme, tampered)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.tool)
def test_a_wrong_secret_is_refused(scheme: Scheme) -> None:
    wrong = "whsec_" + "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZw==" if scheme.tool == "formbricks" else "not-the-secret"
    message = refused(scheme, request(scheme, secret=wrong))
    assert "does not match" in message or "not match" in message


@pytest.mark.parametrize(
    ("scheme", "header"), [(s, h) for s in SCHEMES for h in s.headers], ids=lambda v: getattr(v, "tool", v)
)
def test_a_missing_header_is_refused_by_name(scheme: Scheme, header: str) -> None:
    headers, query = scheme.sign(BODY, scheme.secret, NOW)
    del headers[header]
    assert refused(scheme, inbound(BODY, headers, query=query)) == f"the {header} header is missing"


@pytest.mark.parametrize("tool", ["jotform", "qualtrics", "freshdesk"])
def test_a_tool_without_signing_needs_the_token(tool: str) -> None:
    scheme = BY_TOOL[tool]
    assert refused(scheme, inbound(BODY)).startswith("no token: add ?token=")
    assert refused(scheme, inbound(BODY, query="token=guess")) == "the token does not match this source's secret"
    verify(scheme, inbound(BODY, {"X-Closeloop-Token": SECRET}))


@pytest.mark.parametrize("scheme", TIMESTAMPED, ids=lambda s: s.tool)
def test_a_stale_or_future_timestamp_is_refused(scheme: Scheme) -> None:
    old = refused(scheme, request(scheme, when=NOW - timedelta(minutes=6)), StaleTimestamp)
    assert "360s away from now (at most 300s" in old
    refused(scheme, request(scheme, when=NOW + timedelta(minutes=6)), StaleTimestamp)
    verify(scheme, request(scheme, when=NOW - timedelta(minutes=4)))


@pytest.mark.parametrize("scheme", TIMESTAMPED, ids=lambda s: s.tool)
def test_the_tolerance_is_the_sources(scheme: Scheme) -> None:
    verify(scheme, request(scheme, when=NOW - timedelta(minutes=6)), tolerance="10m")
    refused(scheme, request(scheme, when=NOW - timedelta(minutes=2)), StaleTimestamp, tolerance="1m")


@pytest.mark.parametrize("scheme", TIMESTAMPED, ids=lambda s: s.tool)
def test_a_signature_cannot_be_moved_to_another_time(scheme: Scheme) -> None:
    headers, query = scheme.sign(BODY, scheme.secret, NOW)
    later, _ = scheme.sign(BODY, scheme.secret, NOW + timedelta(seconds=30))
    stamp_header = next(h for h in scheme.headers if "timestamp" in h.lower())
    headers[stamp_header] = later[stamp_header]
    assert "does not match" in refused(scheme, inbound(BODY, headers, query=query))


@pytest.mark.parametrize(
    ("tool", "header", "value", "message"),
    [
        ("typeform", "Typeform-Signature", "sha1=abc", "not of the form sha256=<base64>"),
        ("typeform", "Typeform-Signature", "sha256=***", "not a base64 signature"),
        ("delighted", "X-Delighted-Webhook-Signature", "sha256=zz", "not a hex signature"),
        ("tally", "Tally-Signature", "%%%", "not a base64 signature"),
        ("formbricks", "webhook-signature", "v2,abc", "has no v1,<base64> signature"),
        ("formbricks", "webhook-timestamp", "yesterday", "is not a Unix or ISO 8601 time"),
        ("google_forms", "X-Closeloop-Signature", "abc", "not of the form v1=<base64>"),
        ("zendesk", "X-Zendesk-Webhook-Signature-Timestamp", "soon", "is not a Unix or ISO 8601 time"),
    ],
)
def test_a_malformed_header_is_a_refusal_not_a_crash(tool: str, header: str, value: str, message: str) -> None:
    scheme = BY_TOOL[tool]
    headers, query = scheme.sign(BODY, scheme.secret, NOW)
    headers[header] = value
    assert message in refused(scheme, inbound(BODY, headers, query=query))


def test_formbricks_accepts_any_of_several_signatures_during_a_rotation() -> None:
    scheme = BY_TOOL["formbricks"]
    headers, _ = scheme.sign(BODY, scheme.secret, NOW)
    headers["webhook-signature"] = "v1,b2xkLXNpZ25hdHVyZQ== " + headers["webhook-signature"]
    verify(scheme, inbound(BODY, headers))


def test_surveymonkey_refuses_another_apps_key() -> None:
    scheme = BY_TOOL["surveymonkey"]
    headers, _ = scheme.sign(BODY, scheme.secret, NOW)
    headers["Sm-Apikey"] = "someone-else"
    assert refused(scheme, inbound(BODY, headers)) == "the Sm-Apikey header is not this source's client id"


def test_headers_are_found_whatever_their_case() -> None:
    scheme = BY_TOOL["typeform"]
    headers, _ = scheme.sign(BODY, scheme.secret, NOW)
    verify(scheme, inbound(BODY, {"typeform-signature": headers["Typeform-Signature"]}))
