"""SurveyMonkey: the thin `response_completed` / `response_updated` webhook, then a fetch of the response.

Signature: `Sm-Apikey` is the app's client id (checked against the source's option) and
`Sm-Signature` is base64(HMAC-SHA1 of the raw body) keyed with "{client id}&{app secret}";
nothing is timestamped. The callback carries ids only, so the response is fetched from
`{api_base}/surveys/{survey_id}/responses/{response_id}/details` with the access token.
Answers have no labels: map questions by id and choices by choice id (`values`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from closeloop.connectors.base import Connector, Fetch, Translation, api_url, body_digest
from closeloop.connectors.errors import Ignored, PayloadUnreadable, SignatureInvalid
from closeloop.connectors.inbound import Inbound
from closeloop.connectors.mapping import Rules, default_rule, pick
from closeloop.connectors.record import Record
from closeloop.connectors.registry import register
from closeloop.connectors.signatures import check_digest, decode_signature, hmac_digest, required_header, same_text
from closeloop.connectors.spec import SourceSpec, read_secret
from closeloop.connectors.survey import Survey

API_BASE = "https://api.surveymonkey.com/v3"
KEY_HEADER = "Sm-Apikey"
SIGNATURE_HEADER = "Sm-Signature"
COMPLETED = "response_completed"
UPDATED = "response_updated"


class SurveyMonkeyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str
    access_token: SecretStr | None = None
    access_token_file: Path | None = None
    api_base: str = API_BASE


def question_values(response: dict[str, Any]) -> dict[str, Any]:
    """Each question's answer by question id.

    A matrix row's answer is also under "{question}/{row}", an "other" text under "{question}/other".
    """
    values: dict[str, Any] = {}
    for page in response.get("pages") or []:
        for question in (page or {}).get("questions") or []:
            qid = str(question.get("id", ""))
            choices: list[str] = []
            texts: list[str] = []
            rows: dict[str, list[str]] = {}
            for answer in question.get("answers") or []:
                if not isinstance(answer, dict):
                    continue
                if "row_id" in answer:
                    rows.setdefault(str(answer["row_id"]), []).append(
                        str(answer.get("choice_id") or answer.get("text", ""))
                    )
                elif "choice_id" in answer:
                    choices.append(str(answer["choice_id"]))
                elif "other_id" in answer:
                    values[f"{qid}/other"] = answer.get("text")
                elif "text" in answer:
                    texts.append(str(answer["text"]))
                elif "download_url" in answer:
                    texts.append(str(answer["download_url"]))
            for row, picked in rows.items():
                values[f"{qid}/{row}"] = picked[0] if len(picked) == 1 else picked
            if choices:
                values[qid] = choices[0] if len(choices) == 1 else choices
            elif texts:
                values[qid] = "\n".join(texts)
            elif f"{qid}/other" in values:
                values[qid] = values[f"{qid}/other"]
    return values


@register
class SurveyMonkey(Connector):
    slug = "surveymonkey"
    title = "SurveyMonkey"
    namespaces = ("question", "custom", "meta")
    default_namespace = "question"
    envelope_namespace = "custom"
    options_model = SurveyMonkeyOptions

    def options_problems(self, options: Any) -> list[tuple[str, str]]:
        if (options.access_token is None) == (options.access_token_file is None):
            return [("options.access_token", "give access_token or access_token_file (one of them)")]
        if not options.api_base.startswith(("https://", "http://")):
            return [("options.api_base", f"{options.api_base!r} is not an http(s) URL")]
        return []

    def verify(self, inbound: Inbound, source: SourceSpec, now: datetime) -> None:
        client_id = source.settings.client_id
        key = required_header(inbound, KEY_HEADER)
        if not same_text(key, client_id):
            raise SignatureInvalid(f"the {KEY_HEADER} header is not this source's client id")
        given = decode_signature(required_header(inbound, SIGNATURE_HEADER), "base64", SIGNATURE_HEADER)
        expected = hmac_digest(f"{client_id}&{source.secret_value()}", inbound.body, "sha1")
        check_digest(expected, given, SIGNATURE_HEADER)

    def translate(self, inbound: Inbound, source: SourceSpec, *, survey: Survey, fetch: Fetch) -> Translation:
        event = inbound.json_object()
        event_type = event.get("event_type")
        if event_type not in (COMPLETED, UPDATED):
            raise Ignored(f"SurveyMonkey event {event_type!r} is not a completed or updated response")
        if event.get("object_type", "response") != "response":
            raise Ignored(f"SurveyMonkey event about a {event.get('object_type')!r}, not a response")
        response_id = str(event.get("object_id") or "")
        survey_id = str((event.get("resources") or {}).get("survey_id") or "")
        if not response_id or not survey_id:
            raise PayloadUnreadable("the event names no response (object_id) or no survey (resources.survey_id)")
        response = self.fetch_response(source, survey_id, response_id, fetch)
        status = response.get("response_status", "completed")
        if status != "completed":
            raise Ignored(f"the SurveyMonkey response is {status!r}, not completed")
        item = self.item(self.record(response), source, survey, inbound)
        event_id = str(event.get("event_id") or body_digest(inbound.body))
        return Translation(event_id=event_id, items=(item,), merge=event_type == UPDATED)

    def fetch_response(self, source: SourceSpec, survey_id: str, response_id: str, fetch: Fetch) -> dict[str, Any]:
        options = source.settings
        token = read_secret(options.access_token, options.access_token_file)
        url = api_url(options.api_base, "surveys", survey_id, "responses", response_id, "details")
        raw = fetch(url, {"Authorization": f"Bearer {token}", "Accept": "application/json"})
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise PayloadUnreadable("SurveyMonkey's API answered something that is not JSON") from None
        # A bulk page is accepted too (its matching entry), which is what an export replays.
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = next((one for one in data["data"] if str(one.get("id")) == response_id), None)
        if not isinstance(data, dict) or not isinstance(data.get("pages", []), list):
            raise PayloadUnreadable(f"SurveyMonkey's API did not return response {response_id}")
        return data

    def record(self, response: dict[str, Any]) -> Record:
        meta = {key: value for key, value in response.items() if not isinstance(value, dict | list)}
        return Record(
            {
                "question": question_values(response),
                "custom": dict(response.get("custom_variables") or {}),
                "meta": meta,
            },
            document=response,
        )

    def default_rules(self, survey: Survey, options: Any) -> Rules:
        return {
            "external_id": default_rule("external_id", pick("meta", "id")),
            "submitted_at": default_rule("submitted_at", pick("meta", "date_modified"), pick("meta", "date_created")),
        }
