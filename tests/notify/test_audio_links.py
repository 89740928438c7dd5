"""A sender cannot make closeloop send its people a link to anywhere: an `audio_url` becomes a link in alert
emails, chat messages, webhook calls and pages only when it is https on its source's allow-list of hosts
(`organization.audio_hosts`, or a source's own `audio_hosts`); otherwise it is shown as words."""

from __future__ import annotations

import pytest

from closeloop.alerts.messages import render_alert
from closeloop.alerts.models import Alert
from closeloop.feedback.models import Response
from closeloop.notify.models import Delivery
from closeloop.org.models import Person
from tests.helpers import ApiClient, apply_acme, create_token
from tests.web.conftest import login_as

pytestmark = pytest.mark.usefixtures("acme")

ALLOWED = "https://recordings.example.com/88213.mp3"  # tests/fixtures/acme.yaml lists recordings.example.com


def posted(audio_url: str, n: int = 1) -> Response:
    item = {
        "survey": "upgrade-install",
        "external_id": f"audio-{n}",
        "unit": "SUP-EMEA",
        "customer": {"id": f"C-{n}", "name": "Pat Lee", "email": "pat@example.com", "contact_ok": True},
        "answers": {"ease": 2, "completed": False, "comment": "It failed twice."},
        "audio_url": audio_url,
    }
    answer = ApiClient(create_token(["ingest"])).post("/api/v1/responses", item)
    assert answer.status_code == 201, answer.json()
    return Response.objects.get(pk=answer.json()["id"])


def email_to_erin(response: Response) -> Delivery:
    return Delivery.objects.get(channel="email", person__key="erin", alert__response=response)


def test_an_https_address_on_the_allow_list_is_a_link_everywhere() -> None:
    response = posted(ALLOWED)
    mail = email_to_erin(response)
    assert f'<a href="{ALLOWED}">Listen to the call</a>' in mail.html
    assert f"Recording: {ALLOWED}" in mail.text
    page = login_as("erin").get(f"/responses/{response.pk}").content.decode()
    assert f'<audio controls preload="none" src="{ALLOWED}">' in page


@pytest.mark.parametrize(
    "address",
    [
        "https://evil.example/88213.mp3",
        "http://recordings.example.com/88213.mp3",
        "https://recordings.example.com@evil.example/88213.mp3",
        "https://recordings.example.com.evil.example/88213.mp3",
        "https://recordings.example.com:8443/88213.mp3",
    ],
    ids=["other-host", "not-https", "user-part", "longer-host", "other-port"],
)
def test_any_other_address_is_words_in_emails_chat_webhooks_and_pages(address: str) -> None:
    response = posted(address)
    mail = email_to_erin(response)
    host = address.split("//", 1)[1].split("/", 1)[0]
    assert address not in mail.html and address not in mail.text
    assert "Listen to the call" not in mail.html and f'href="{address}' not in mail.html
    assert "(not a link: its host is not on the list of recording hosts)" in mail.text
    # Written so that no mail client links it either, but a reader still sees where it goes.
    assert host.replace(".", "[.]") in mail.text and "[:]//" in mail.text
    alert = Alert.objects.filter(response=response).first()
    assert alert is not None
    chat = render_alert(alert, Person.objects.get(key="erin"), "chat").text
    assert address not in chat and "Listen to the call" not in chat
    webhook = render_alert(alert, None, "webhook").payload
    assert webhook is not None and webhook["links"]["audio"] is None
    page = login_as("erin").get(f"/responses/{response.pk}").content.decode()
    assert f'src="{address}"' not in page and f'href="{address}"' not in page
    assert f"<code>{address.replace('&', '&amp;')}</code>" in page
    assert "not a link (its host is not on the list of recording hosts)" in page


def test_sms_never_carry_a_recording_address() -> None:
    response = posted("https://evil.example/88213.mp3")
    for sms in Delivery.objects.filter(channel="sms", alert__response=response):
        assert "evil" not in sms.text


def test_without_any_allow_list_no_address_is_a_link() -> None:
    apply_acme(lambda data: data["organization"].pop("audio_hosts"))
    response = posted(ALLOWED)
    assert "Listen to the call" not in email_to_erin(response).html
    assert response.audio_url == ALLOWED  # the address itself is kept, and the API still gives it
