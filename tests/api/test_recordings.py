"""Interview recordings: `POST /api/v1/responses/{id}/audio`, played on the response page, linked from alert
emails by a signed, expiring URL; only with the customer's consent; removed with their personal data."""

from __future__ import annotations

import io
import re
import stat
import wave
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from closeloop.feedback.models import Response
from closeloop.feedback.recordings import delete_recording
from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from tests import factories
from tests.helpers import ApiClient, create_token
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")


@pytest.fixture(autouse=True)
def own_home(settings, tmp_path: Path) -> None:
    """Each test keeps its recordings in a home folder of its own."""
    settings.CLOSELOOP_HOME = tmp_path


def wav(seconds: float = 0.1, rate: int = 8000) -> bytes:
    """A real WAV file: mono 16-bit silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * int(rate * seconds))
    return out.getvalue()


# The first bytes of each accepted format, as the recorders write them, followed by some frame data.
OGG = b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + b"\x01\x1e\x01vorbis" + b"\x00" * 200
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
MP3_WITHOUT_TAG = b"\xff\xfb\x90\x64" + b"\x00" * 400
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 300
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100
TEXT = b"This is not a recording, whatever its name says." * 5


def post_response(*, contact_ok: bool = True, unit: str = "SUP-EMEA", n: int = 1) -> dict[str, Any]:
    body = factories.response_body(
        n=n,
        prefix="rec",
        unit=unit,
        contact_ok=contact_ok,
        phone=None,
        tier=None,
        submitted_at=None,
        ticket=None,
        agent=None,
        interviewer_notes="Sounded close to cancelling.",
    )
    response = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    assert response.status_code == 201, response.json()
    return response.json()


def upload(
    response_id: int,
    data: bytes,
    *,
    name: str = "interview.wav",
    scopes: tuple[str, ...] = ("ingest",),
    person: Person | None = None,
    field: str = "audio",
) -> Any:
    token = create_token(list(scopes), person)
    files = {field: SimpleUploadedFile(name, data, content_type="audio/mpeg")}
    return Client().post(f"/api/v1/responses/{response_id}/audio", files, headers={"Authorization": f"Bearer {token}"})


def audio_folder() -> Path:
    return Path(settings.CLOSELOOP_HOME) / "audio"


def stored_file(response_id: int) -> Path:
    response = Response.objects.get(pk=response_id)
    assert response.audio_file
    return audio_folder() / response.audio_file


def test_a_wav_is_kept_owner_only_and_the_response_says_where_it_plays():
    created = post_response()
    assert not audio_folder().exists(), "created with the first recording"
    data = wav()
    answer = upload(created["id"], data)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["recording"] == f"http://127.0.0.1:8000/responses/{created['id']}/audio"
    path = stored_file(created["id"])
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(audio_folder().stat().st_mode) == 0o700
    assert Response.objects.get(pk=created["id"]).audio_type == "audio/x-wav"


@pytest.mark.parametrize(
    ("data", "name", "kind", "suffix"),
    [
        (OGG, "call.ogg", "audio/ogg", ".ogg"),
        (MP3, "call.mp3", "audio/mpeg", ".mp3"),
        (MP3_WITHOUT_TAG, "call.bin", "audio/mpeg", ".mp3"),
        (M4A, "call.m4a", "audio/mp4", ".m4a"),
        (wav(), "no-extension", "audio/x-wav", ".wav"),
    ],
)
def test_each_accepted_format_is_told_by_its_content_not_its_name(data, name, kind, suffix):
    created = post_response()
    assert upload(created["id"], data, name=name).status_code == 200
    assert Response.objects.get(pk=created["id"]).audio_type == kind
    assert stored_file(created["id"]).suffix == suffix


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (PNG, "call.mp3", "not an audio file of the accepted types, mp3, wav, ogg or m4a (it looks like image/png)"),
        (TEXT, "call.wav", "not an audio file of the accepted types, mp3, wav, ogg or m4a"),
        (b"", "call.wav", "the file is empty"),
    ],
)
def test_anything_else_is_refused_with_422_naming_the_field_and_nothing_is_kept(data, name, message):
    created = post_response()
    audio_folder().mkdir(mode=0o700)
    answer = upload(created["id"], data, name=name)
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"loc": ["audio"], "msg": message}]
    assert Response.objects.get(pk=created["id"]).audio_file == ""
    assert list(audio_folder().iterdir()) == []


def test_an_upload_without_the_audio_field_is_refused_naming_it():
    created = post_response()
    answer = upload(created["id"], wav(), field="recording")
    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["errors"]] == [["audio"]]


def test_a_recording_over_the_configured_size_gets_413(settings):
    settings.CLOSELOOP_AUDIO_MAX_BYTES = 2000
    created = post_response()
    answer = upload(created["id"], wav(seconds=0.5))  # 8 kB: inside the multipart allowance, over the file limit
    assert answer.status_code == 413
    assert answer.json()["errors"] == [{"loc": ["audio"], "msg": "the file is 8044 bytes; the limit is 2000 bytes"}]
    far_too_large = upload(created["id"], wav(seconds=10))  # 160 kB: refused before it is read
    assert far_too_large.status_code == 413
    assert Response.objects.get(pk=created["id"]).audio_file == ""


def test_a_recording_larger_than_the_api_body_limit_is_accepted():
    created = post_response()
    data = wav(seconds=70)  # 1.1 MB, over the 1 MiB of JSON bodies
    assert len(data) > settings.CLOSELOOP_MAX_BODY_BYTES
    assert upload(created["id"], data).status_code == 200
    assert stored_file(created["id"]).stat().st_size == len(data)


def test_a_read_token_cannot_upload():
    created = post_response()
    answer = upload(created["id"], wav(), scopes=("read", "write"))
    assert answer.status_code == 403
    assert Response.objects.get(pk=created["id"]).audio_file == ""


def test_a_token_of_another_unit_cannot_see_the_response_to_upload_to():
    created = post_response()
    answer = upload(created["id"], wav(), person=Person.objects.get(key="ursula"))
    assert answer.status_code == 404


def test_without_the_customers_consent_no_recording_is_kept():
    created = post_response(contact_ok=False)
    answer = upload(created["id"], wav())
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["loc"] == ["audio"]
    assert "has not agreed to be contacted" in answer.json()["detail"]
    assert Response.objects.get(pk=created["id"]).audio_file == ""


def test_a_second_upload_replaces_the_first_and_removes_its_file(django_capture_on_commit_callbacks):
    created = post_response()
    upload(created["id"], wav())
    first = stored_file(created["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(created["id"], OGG, name="again.ogg").status_code == 200
    assert not first.exists()
    assert stored_file(created["id"]).read_bytes() == OGG


# --- playing it ------------------------------------------------------------------------------------------


def test_the_response_page_plays_it_through_the_checked_view():
    created = post_response()
    data = wav()
    upload(created["id"], data)
    erin = login_as("erin")
    page = erin.get(f"/responses/{created['id']}").content.decode()
    assert f'<audio controls preload="none" src="/responses/{created["id"]}/audio">' in page
    played = erin.get(f"/responses/{created['id']}/audio")
    assert played.status_code == 200
    assert b"".join(played.streaming_content) == data
    assert played["Content-Type"] == "audio/x-wav"
    assert played["Cache-Control"] == "private, no-store"


def test_only_viewers_who_may_see_the_response_can_play_it():
    created = post_response()
    upload(created["id"], wav())
    url = f"/responses/{created['id']}/audio"
    assert login_as("ursula").get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    reader = Client().get(url, headers={"Authorization": f"Bearer {create_token(['read'])}"})
    assert reader.status_code == 200
    uploader = Client().get(url, headers={"Authorization": f"Bearer {create_token(['ingest'])}"})
    assert uploader.status_code == 403


def test_a_recording_hosted_elsewhere_still_plays_from_its_own_address():
    body = {
        "survey": "upgrade-install",
        "external_id": "elsewhere",
        "unit": "SUP-EMEA",
        "customer": {"id": "C-9", "contact_ok": True},
        "answers": {"ease": 2},
        "audio_url": "https://recordings.example.com/88213.mp3",
    }
    created = ApiClient(create_token(["ingest"])).post("/api/v1/responses", body).json()
    page = login_as("erin").get(f"/responses/{created['id']}").content.decode()
    assert 'src="https://recordings.example.com/88213.mp3"' in page
    assert created["recording"] is None


# --- the link in alert emails ------------------------------------------------------------------------------


def pending_email_to(person: str) -> Delivery:
    return Delivery.objects.get(topic="alert", channel="email", person__key=person)


def signed_link(text: str) -> str:
    [link] = re.findall(r"http://127\.0\.0\.1:8000(/recordings/\S+)", text)
    return link


def test_an_alert_email_not_sent_yet_links_to_the_recording_with_a_signed_url():
    created = post_response()
    assert "/recordings/" not in pending_email_to("erin").text
    data = wav()
    upload(created["id"], data)
    email = pending_email_to("erin")
    link = signed_link(email.text)
    assert f"Recording: http://127.0.0.1:8000{link}" in email.text
    assert f'href="http://127.0.0.1:8000{link}"' in email.html
    assert link != signed_link(pending_email_to("sam").text), "each recipient has their own link"
    played = Client().get(link)
    assert played.status_code == 200
    assert b"".join(played.streaming_content) == data


def test_the_signed_link_expires_and_cannot_be_altered():
    created = post_response()
    upload(created["id"], wav())
    link = signed_link(pending_email_to("erin").text)
    assert Client().get(link[:-3] + "abc").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert Client().get(link).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert Client().get(link).status_code == 200


def test_an_email_already_sent_is_left_as_it_was():
    created = post_response()
    Delivery.objects.filter(topic="alert").update(status=Delivery.Status.SENT, attempts=1)
    before = pending_email_to("erin").text
    upload(created["id"], wav())
    assert pending_email_to("erin").text == before


def test_no_surface_plays_it_once_the_customer_withdraws_consent():
    created = post_response(n=1)
    upload(created["id"], wav())
    link = signed_link(pending_email_to("erin").text)
    body = {"survey": "upgrade-install", "external_id": "later", "unit": "SUP-EMEA", "answers": {"ease": 9}}
    body["customer"] = {"id": "C-1", "contact_ok": False}
    ApiClient(create_token(["ingest"])).post("/api/v1/responses", body)
    assert Client().get(link).status_code == 404
    erin = login_as("erin")
    assert erin.get(f"/responses/{created['id']}/audio").status_code == 404
    assert "<audio" not in erin.get(f"/responses/{created['id']}").content.decode()
    reader = ApiClient(create_token(["read"]))
    assert reader.get(f"/api/v1/responses/{created['id']}").json()["recording"] is None


# --- personal data -----------------------------------------------------------------------------------------


def test_deleting_the_personal_data_removes_the_file_once_committed(django_capture_on_commit_callbacks):
    created = post_response()
    upload(created["id"], wav())
    path = stored_file(created["id"])
    response = Response.objects.get(pk=created["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_recording(response) is True
        # Until the deletion commits, the file stays: a rolled-back erase must not lose it.
        assert path.exists()
    assert not path.exists()
    stored = Response.objects.get(pk=created["id"])
    assert (stored.audio_file, stored.audio_type, stored.audio_url) == ("", "", "")
    assert login_as("erin").get(f"/responses/{created['id']}/audio").status_code == 404
    assert delete_recording(stored) is False


def test_a_rolled_back_deletion_keeps_the_file():
    created = post_response()
    upload(created["id"], wav())
    path = stored_file(created["id"])
    with pytest.raises(RuntimeError), transaction.atomic():
        delete_recording(Response.objects.get(pk=created["id"]))
        raise RuntimeError("the erase failed after the recording")
    assert path.is_file()
    assert Response.objects.get(pk=created["id"]).audio_file
