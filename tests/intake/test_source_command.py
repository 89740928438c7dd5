"""`closeloop source test KEY FILE`: a saved request through a source's verification and map, printed as
JSON, with nothing stored."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from closeloop.feedback.models import Response
from closeloop.intake.models import DeadLetter, HookDelivery
from tests.intake.conftest import payload, post_hook, sign

pytestmark = pytest.mark.usefixtures("hooks")


def saved(tmp_path: Path, name: str, body: bytes | None = None) -> Path:
    path = tmp_path / name
    path.write_bytes(body if body is not None else payload(name))
    return path


def source_test(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("source", "test", *args, stdout=out)
    return json.loads(out.getvalue())


def nothing_stored() -> bool:
    return not (Response.objects.exists() or HookDelivery.objects.exists() or DeadLetter.objects.exists())


def test_a_signed_request_prints_the_items_and_problems_and_stores_nothing(tmp_path: Path) -> None:
    path = saved(tmp_path, "tally_form_response.json")
    (signature,) = sign("tally", path.read_bytes()).items()
    result = source_test("event-tally", str(path), "--header", f"{signature[0]}: {signature[1]}")
    assert result == {
        "source": "event-tally",
        "tool": "tally",
        "survey": "support-csat",
        "verified": True,
        "event_id": "a4cb511e-d513-4fa5-baee-b815d718dfd1",
        "merge": False,
        "items": [
            {
                "body": {
                    "survey": "support-csat",
                    "external_id": "2wgx4n",
                    "submitted_at": "2023-06-28T15:00:21+00:00",
                    "unit": "SUP-EMEA",
                    "customer": {"phone": "+32491223344", "id": "+32491223344"},
                    "answers": {"score": 8, "comment": "Hello world"},
                },
                "problems": ["map.customer.email: '[email protected]' is not an email address"],
                "would_be": {
                    "outcome": "new",
                    "status": "valid",
                    "problems": ["map.customer.email: '[email protected]' is not an email address"],
                },
            }
        ],
    }
    assert nothing_stored()


def test_a_wrong_signature_exits_2_with_the_reason(tmp_path: Path) -> None:
    path = saved(tmp_path, "tally_form_response.json")
    with pytest.raises(CommandError) as caught:
        source_test("event-tally", str(path), "--header", "Tally-Signature: bm90IGl0")
    assert caught.value.returncode == 2
    assert (
        str(caught.value)
        == "401: the Tally-Signature signature does not match the body (wrong secret, or the body was changed)"
    )
    assert nothing_stored()


def test_no_verify_skips_the_check_and_a_multipart_boundary_is_read_from_the_body(tmp_path: Path) -> None:
    path = saved(tmp_path, "jotform_webhook_zulip.multipart")
    result = source_test("visit-jotform", str(path), "--no-verify")
    assert result["verified"] is False
    (item,) = result["items"]
    assert item["body"]["answers"] == {"completed": False}
    assert item["would_be"] == {"outcome": "new", "status": "valid", "problems": []}
    # With the token from the URL it verifies too.
    assert source_test("visit-jotform", str(path), "--query", "token=s3cret-for-tests")["verified"] is True


def test_a_stored_response_shows_as_a_replay_and_an_ignored_event_as_ignored(tmp_path: Path) -> None:
    post_hook("install-typeform", payload("typeform_form_response.json"))
    stored = Response.objects.get()
    result = source_test("install-typeform", str(saved(tmp_path, "typeform_form_response.json")), "--no-verify")
    assert result["items"][0]["would_be"] == {
        "outcome": "replay",
        "status": "valid",
        "problems": [],
        "response": stored.pk,
    }
    partial = saved(tmp_path, "partial.json", b'{"event_type": "form_response_partial", "form_response": {}}')
    assert source_test("install-typeform", str(partial), "--no-verify")["ignored"] == (
        "a partial Typeform response (form_response_partial); only submitted responses are taken"
    )


def test_an_item_the_ingest_would_refuse_says_so(tmp_path: Path) -> None:
    data = json.loads(payload("typeform_form_response.json"))
    for answer in data["form_response"]["answers"]:
        if answer["type"] == "email":
            answer["email"] = "laura@example..com"
    path = saved(tmp_path, "refused.json", json.dumps(data).encode())
    (item,) = source_test("install-typeform", str(path), "--no-verify")["items"]
    assert item["would_be"] == {
        "outcome": "rejected",
        "errors": ["customer.email: 'laura@example..com' is not an email address"],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nope", "x.json"],
            "unknown source 'nope' (known: event-tally, install-qualtrics, install-typeform, "
            "nps-delighted, nps-surveymonkey, onboarding-formbricks, support-freshdesk, support-google-forms, "
            "support-zendesk, visit-jotform)",
        ),
        (["event-tally", "/no/such/file.json"], "/no/such/file.json: cannot be read (No such file or directory)"),
        (["event-tally", "BODY", "--header", "no colon"], "--header 'no colon': write it as 'Name: value'"),
        (
            ["event-tally", "BODY", "--no-verify"],
            "422: the body is not valid JSON (Expecting value at line 1 column 1)",
        ),
    ],
)
def test_errors_exit_2_with_the_reason(tmp_path: Path, args: list[str], message: str) -> None:
    body = saved(tmp_path, "body.json", b"not json at all")
    with pytest.raises(CommandError) as caught:
        source_test(*[str(body) if arg == "BODY" else arg for arg in args])
    assert (caught.value.returncode, str(caught.value)) == (2, message)
