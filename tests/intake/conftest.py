"""The Acme organisation with one source per survey tool, a local stand-in for the tools' APIs, and each
tool's own signing, so the receiving endpoint is tested through real requests."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from closeloop.config.apply import apply_config
from tests.connectors.conftest import PAYLOADS, SECRET, WHSEC, b64_hmac, hex_hmac, payload, payload_json
from tests.connectors.tool_api import FakeApi, serve

ACME = Path(__file__).resolve().parents[1] / "fixtures" / "acme.yaml"
SM_DETAILS = "/v3/surveys/105723396/responses/5007154325/details"
QX_RESPONSE = "/API/v3/surveys/SV_0123456789ABCDE/responses/R_2YPOQ602ER1jkf1"
SM_CLIENT = "client-123"
JOTFORM_BOUNDARY = "------------------------J1JNT4vbVO4FCC1qLG4HSv"

SUPPORT_CSAT = {
    "key": "support-csat",
    "name": "Support satisfaction",
    "overall": "score",
    "questions": [
        {"key": "score", "type": "scale", "min": 1, "max": 10},
        {"key": "resolved", "type": "yes_no"},
        {"key": "comment", "type": "text"},
    ],
}
EMEA = {"value": "SUP-EMEA"}


def sources(api_base: str) -> list[dict[str, Any]]:
    """One source per tool, each mapping the tools' published payloads onto Acme's surveys."""
    return [
        {
            "key": "install-typeform",
            "tool": "typeform",
            "survey": "upgrade-install",
            "secret": SECRET,
            "map": {
                "answers": {
                    "ease": {"ref": "readable_ref_rating", "scale": [1, 5]},
                    "completed": {"ref": "readable_ref_yes_no"},
                    "comment": "readable_ref_long_text",
                },
                "unit": EMEA,
                "customer": {"id": {"hidden": "user_id"}, "email": "readable_ref_email"},
            },
        },
        {
            "key": "onboarding-formbricks",
            "tool": "formbricks",
            "survey": "upgrade-install",
            "secret": WHSEC,
            "map": {
                "answers": {
                    "ease": {"question": "iht7n48iwkoc1jc8ubnzrqi7", "scale": [1, 5]},
                    "comment": "dc185mu0h2xzutpzfgq8eyjy",
                },
                "unit": EMEA,
                "customer": {"email": {"question": "y4t3q9ctov2dn6qdon1kdbrq", "optional": True}},
            },
        },
        {
            "key": "nps-delighted",
            "tool": "delighted",
            "survey": "relationship",
            "secret": SECRET,
            "map": {"unit": EMEA},
        },
        {
            "key": "nps-surveymonkey",
            "tool": "surveymonkey",
            "survey": "relationship",
            "secret": SECRET,
            "options": {"client_id": SM_CLIENT, "access_token": "sm-access-token", "api_base": f"{api_base}/v3"},
            "map": {
                "answers": {"recommend": {"question": "319352786", "values": {"3057839051": 2}}},
                "ticket": {"custom": "custvar_1"},
                "segment": {"custom": "custvar_2", "values": {"two": "ENT"}},
                "unit": EMEA,
            },
        },
        {
            "key": "support-zendesk",
            "tool": "zendesk",
            "survey": "support-csat",
            "secret": SECRET,
            "map": {
                "unit": [{"ticket": "group", "values": {"Support EMEA": "SUP-EMEA", "Support US": "SUP-US"}}, EMEA]
            },
        },
        {
            "key": "support-freshdesk",
            "tool": "freshdesk",
            "survey": "support-csat",
            "secret": SECRET,
            "map": {"unit": EMEA},
        },
        {
            "key": "event-tally",
            "tool": "tally",
            "survey": "support-csat",
            "secret": SECRET,
            "map": {"answers": {"score": {"label": "Rating", "scale": [1, 5]}, "comment": "Long text"}, "unit": EMEA},
        },
        {
            "key": "visit-jotform",
            "tool": "jotform",
            "survey": "upgrade-install",
            "secret": SECRET,
            "map": {
                "answers": {"completed": "priorTutoring", "comment": "description"},
                "customer": {"name": "studentsName", "id": {"meta": "username"}},
                "unit": EMEA,
            },
        },
        {
            "key": "support-google-forms",
            "tool": "google_forms",
            "survey": "support-csat",
            "secret": SECRET,
            "map": {
                "answers": {
                    "score": "How satisfied were you with our support?",
                    "resolved": "Was your issue resolved?",
                    "comment": "Anything else you'd like to tell us?",
                },
                "ticket": {"title": "Ticket ID", "optional": True},
                "unit": EMEA,
            },
        },
        {
            "key": "install-qualtrics",
            "tool": "qualtrics",
            "survey": "upgrade-install",
            "secret": SECRET,
            "options": {"api_base": f"{api_base}/API/v3", "api_token": "qx-token"},
            "map": {
                "answers": {
                    "completed": {"id": "QID1", "values": {"1": True, "2": False, "3": False}},
                    "comment": "QID2_TEXT",
                },
                "unit": EMEA,
            },
        },
    ]


def hooks_config(api_base: str, *, extra_sources: list[dict[str, Any]] | None = None) -> str:
    """Acme, the support survey and every tool's source; an extra source with a listed key replaces that one."""
    document = yaml.safe_load(ACME.read_text())
    # The tools' published sample exports were answered years ago; imported here, they stand for fresh ones.
    document["organization"]["alert_max_age"] = "5200w"
    document["surveys"].append(SUPPORT_CSAT)
    extra = {source["key"]: source for source in extra_sources or []}
    listed = [extra.pop(source["key"], source) for source in sources(api_base)]
    document["sources"] = listed + list(extra.values())
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def tool_api() -> Iterator[FakeApi]:
    """SurveyMonkey's and Qualtrics' APIs, as far as the callbacks need them, on 127.0.0.1."""
    routes = {
        SM_DETAILS: (200, json.dumps(payload_json("surveymonkey_responses_bulk.json")["data"][0]).encode()),
        QX_RESPONSE: (200, payload("qualtrics_get_response_reconstructed.json")),
    }
    with serve(FakeApi(routes)) as api:
        yield api


@pytest.fixture
def hooks(db: None, tool_api: FakeApi) -> FakeApi:
    """Acme with every tool's source applied; the stand-in API they fetch from."""
    apply_config(hooks_config(tool_api.base))
    return tool_api


# --- signing as each tool signs ---------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def sign(
    tool: str, body: bytes, *, secret: str | None = None, when: datetime | None = None, event: str = ""
) -> dict[str, str]:
    """The headers (and for tools that sign nothing, the token) the tool sends with `body`."""
    when = when or _now()
    key = secret if secret is not None else (WHSEC if tool == "formbricks" else SECRET)
    stamp = str(int(when.timestamp()))
    if tool == "typeform":
        return {"Typeform-Signature": "sha256=" + b64_hmac(key, body)}
    if tool == "formbricks":
        message_id = event or "msg_" + hex_hmac("id", body)[:12]
        raw_key = base64.b64decode(key.removeprefix("whsec_"))
        signature = b64_hmac(raw_key, f"{message_id}.{stamp}.".encode() + body)
        return {"webhook-id": message_id, "webhook-timestamp": stamp, "webhook-signature": f"v1,{signature}"}
    if tool == "delighted":
        return {"X-Delighted-Webhook-Signature": "sha256=" + hex_hmac(key, body)}
    if tool == "surveymonkey":
        return {"Sm-Apikey": SM_CLIENT, "Sm-Signature": b64_hmac(f"{SM_CLIENT}&{key}", body, "sha1")}
    if tool == "zendesk":
        iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "X-Zendesk-Webhook-Signature": b64_hmac(key, iso.encode() + body),
            "X-Zendesk-Webhook-Signature-Timestamp": iso,
        }
    if tool == "tally":
        return {"Tally-Signature": b64_hmac(key, body)}
    if tool == "google_forms":
        return {
            "X-Closeloop-Timestamp": stamp,
            "X-Closeloop-Signature": "v1=" + b64_hmac(key, stamp.encode() + b"." + body),
        }
    if tool == "freshdesk":
        return {"X-Closeloop-Token": key}
    return {}  # jotform, qualtrics: the token is in the URL (see `query`)


def query(tool: str, secret: str = SECRET) -> str:
    return f"token={secret}" if tool in ("jotform", "qualtrics") else ""


CONTENT_TYPES = {
    "jotform": f"multipart/form-data; boundary={JOTFORM_BOUNDARY}",
    "qualtrics": "application/x-www-form-urlencoded",
}

TOOLS = {
    "install-typeform": "typeform",
    "onboarding-formbricks": "formbricks",
    "nps-delighted": "delighted",
    "nps-surveymonkey": "surveymonkey",
    "support-zendesk": "zendesk",
    "support-freshdesk": "freshdesk",
    "event-tally": "tally",
    "visit-jotform": "jotform",
    "support-google-forms": "google_forms",
    "install-qualtrics": "qualtrics",
}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


def post_hook(
    key: str,
    body: bytes | str,
    *,
    headers: dict[str, str] | None = None,
    signed: bool = True,
    content_type: str | None = None,
    client: Client | None = None,
    event: str = "",
    token_query: str | None = None,
) -> Reply:
    """POST `body` to /hooks/<key> as the source's tool sends it (signed unless `signed` is False)."""
    raw = body.encode() if isinstance(body, str) else body
    tool = TOOLS.get(key, "")
    sent = {**(sign(tool, raw, event=event) if signed else {}), **(headers or {})}
    token = token_query if token_query is not None else query(tool) if signed else ""
    path = f"/hooks/{key}" + (f"?{token}" if token else "")
    reply = (client or Client()).generic(
        "POST", path, raw, content_type=content_type or CONTENT_TYPES.get(tool, "application/json"), headers=sent
    )
    data = json.loads(reply.content) if reply.content else {}
    return Reply(reply.status_code, data)


Poster = Callable[..., Reply]

__all__ = ["PAYLOADS", "Reply", "hooks_config", "payload", "payload_json", "post_hook", "sign"]
