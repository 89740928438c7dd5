from __future__ import annotations

import pytest

from closeloop.notify.channels import STORED_IN_OUTBOX, PermanentError, TemporaryError, get_channel
from closeloop.notify.channels.apprise_send import classify_apprise_failure
from closeloop.notify.channels.sms import SMS_MAX_CHARS, fit_sms
from closeloop.notify.outbox import enqueue
from tests.notify.conftest import NOW, free_port

pytestmark = pytest.mark.django_db


def make_sms(text: str = "URGENT recovery SUP-EMEA 2/10 http://x/responses/1", phone: str = "+15555550123"):
    return enqueue(channel="sms", address=phone, text=text, idempotency_key=f"sms:{phone}:{len(text)}", now=NOW)


@pytest.fixture
def sms_url(settings, http_sink):
    settings.SMS_URL = f"json://127.0.0.1:{http_sink.port}/sms/{{phone}}"
    return http_sink


def test_sms_is_posted_to_the_url_with_the_encoded_number(sms_url):
    get_channel("sms").send(make_sms())
    [request] = sms_url.requests
    # Apprise decodes the path it was given; "+" is literal in a URL path.
    assert request.path == "/sms/+15555550123"
    assert request.json()["message"] == "URGENT recovery SUP-EMEA 2/10 http://x/responses/1"


def test_long_sms_text_is_cut_to_320_characters(sms_url):
    get_channel("sms").send(make_sms(text="word " * 200))
    sent = sms_url.requests[0].json()["message"]
    assert len(sent) <= SMS_MAX_CHARS
    assert sent.endswith("word…")


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_provider_overload_or_outage_is_temporary(sms_url, status):
    sms_url.statuses.append(status)
    with pytest.raises(TemporaryError, match=str(status)):
        get_channel("sms").send(make_sms())


@pytest.mark.parametrize("status", [400, 401, 404])
def test_provider_rejection_is_permanent(sms_url, status):
    sms_url.statuses.append(status)
    with pytest.raises(PermanentError, match=str(status)):
        get_channel("sms").send(make_sms())


def test_unreachable_provider_is_temporary(settings):
    settings.SMS_URL = f"json://127.0.0.1:{free_port()}/sms/{{phone}}"
    with pytest.raises(TemporaryError, match="cannot reach"):
        get_channel("sms").send(make_sms())


def test_without_sms_url_the_message_is_kept_in_the_outbox(settings):
    settings.SMS_URL = None
    assert get_channel("sms").send(make_sms()).provider_id == STORED_IN_OUTBOX


def test_a_missing_number_is_permanent(sms_url):
    with pytest.raises(PermanentError, match="no phone number"):
        get_channel("sms").send(make_sms(phone=""))


def test_fit_sms_keeps_short_text_and_never_exceeds_the_limit():
    assert fit_sms("short  text\n") == "short text"
    assert len(fit_sms("x" * 1000)) == SMS_MAX_CHARS


def test_a_failure_apprise_did_not_explain_is_temporary():
    assert isinstance(classify_apprise_failure(["something odd"], "SMS"), TemporaryError)
