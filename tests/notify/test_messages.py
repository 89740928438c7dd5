"""Alert messages built from real rows: content, contact consent and escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from closeloop.alerts.messages import render_alert
from closeloop.alerts.models import Alert
from closeloop.feedback.models import Customer, Question, Response, Survey
from closeloop.notify.channels.sms import SMS_MAX_CHARS
from closeloop.org.models import Organization, Person, Unit
from tests.notify.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Organization:
    return Organization.objects.create(
        pk=1,
        name="Acme Software",
        ticket_url="https://support.acme.example/tickets/{ticket}",
        repeat_window=timedelta(days=60),
    )


@pytest.fixture
def erin() -> Person:
    return Person.objects.create(key="erin", name="Erin Diaz", email="erin@acme.example", phone="+15555550101")


def make_alert(
    org,
    erin,
    *,
    contact_ok=True,
    kind="recovery",
    severity="urgent",
    comment="It failed twice.",
    repeat=False,
    audio_url="https://recordings.example.com/88213.mp3",
    customer_name="Pat Lee",
    audio_url_allowed=True,
):
    root = Unit.objects.get_or_create(code="ACME", defaults={"name": "Acme", "path": "/ACME/"})[0]
    unit = Unit.objects.get_or_create(
        code="SUP-EMEA", defaults={"name": "Support EMEA", "parent": root, "path": "/ACME/SUP-EMEA/", "depth": 1}
    )[0]
    survey, created = Survey.objects.get_or_create(
        key="upgrade-install", defaults={"name": "Upgrade", "overall": "ease"}
    )
    if created:
        Question.objects.create(
            survey=survey, key="ease", type="scale", min=1, max=10, position=0, label="How easy was the installation?"
        )
        Question.objects.create(
            survey=survey,
            key="completed",
            type="yes_no",
            position=1,
            label="Were you able to complete the installation?",
        )
        Question.objects.create(
            survey=survey, key="factors", type="multi_choice", position=2, options=["Speed", "Knowledge"]
        )
        Question.objects.create(survey=survey, key="comment", type="text", position=3, label="Anything else?")
    customer = Customer.objects.create(
        external_id=f"C-{Customer.objects.count() + 77}",
        name=customer_name,
        email="pat@example.com",
        phone="+1 555 555 0123",
        tier="Gold",
        contact_ok=contact_ok,
        updated_at=NOW,
    )
    response = Response.objects.create(
        survey=survey,
        external_id=f"sm-{Response.objects.count()}",
        submitted_at=NOW,
        received_at=NOW,
        unit=unit,
        agent=erin,
        ticket="T-1001",
        customer=customer,
        # What the response itself gave: what messages show.
        customer_name=customer_name,
        customer_email="pat@example.com",
        customer_phone="+1 555 555 0123",
        contact_ok=contact_ok,
        status="valid",
        overall=2,
        needs_recovery=True,
        answers={"ease": 2, "completed": False, "factors": ["Speed"], "comment": comment},
        interviewer_notes="Sounded close to cancelling.",
        audio_url=audio_url,
        audio_url_allowed=audio_url_allowed,
    )
    return Alert.objects.create(
        response=response,
        rule_key="install-failed",
        kind=kind,
        severity=severity,
        category="Installation issues",
        unit=unit,
        repeat=repeat,
        created_at=NOW,
    )


def test_email_subject_names_severity_kind_unit_score_and_category(org, erin):
    message = render_alert(make_alert(org, erin), erin, "email")
    assert message.subject == "[URGENT] Recovery: SUP-EMEA – 2/10 – Installation issues"


def test_praise_subject_names_the_agent(org, erin):
    message = render_alert(make_alert(org, erin, kind="praise", severity="low"), erin, "email")
    assert message.subject == "Kudos for Erin Diaz: SUP-EMEA – 2/10 – Installation issues"


def test_email_puts_the_customers_words_first_then_every_answer_with_its_label(org, erin):
    alert = make_alert(org, erin)
    text = render_alert(alert, erin, "email").text
    assert text.index('"It failed twice."') < text.index("Answers:")
    assert "How easy was the installation?: 2/10" in text
    assert "Were you able to complete the installation?: No" in text
    assert "factors: Speed" in text
    assert "Sounded close to cancelling." in text
    assert "Ticket: T-1001 <https://support.acme.example/tickets/T-1001>" in text
    assert "Recording: https://recordings.example.com/88213.mp3" in text
    assert f"http://127.0.0.1:8000/responses/{alert.response_id}" in text


def test_contact_details_are_links_when_the_customer_agreed(org, erin):
    html = render_alert(make_alert(org, erin, contact_ok=True), erin, "email").html
    assert '<a href="mailto:pat@example.com">pat@example.com</a>' in html
    assert '<a href="tel:+15555550123">+1 555 555 0123</a>' in html
    assert "Pat Lee" in html


@pytest.mark.parametrize("channel", ["email", "sms", "chat", "webhook"])
def test_contact_details_never_appear_without_consent(org, erin, channel):
    message = render_alert(make_alert(org, erin, contact_ok=False), erin, channel)
    everything = message.subject + message.text + message.html + str(message.payload)
    for secret in ("pat@example.com", "555 0123", "5550123", "Pat Lee", "mailto:", "tel:"):
        assert secret not in everything


def test_html_escapes_what_the_customer_wrote(org, erin):
    alert = make_alert(org, erin, comment='<script>alert("x")</script> & <b>bold</b>', customer_name="<i>Pat</i>")
    html = render_alert(alert, erin, "email").html
    assert "<script>" not in html and "<b>bold</b>" not in html and "<i>Pat</i>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;i&gt;Pat&lt;/i&gt;" in html
    text = render_alert(alert, erin, "email").text
    assert '<script>alert("x")</script> & <b>bold</b>' in text, "plain text is not HTML-escaped"


def test_a_non_web_audio_link_is_not_linked(org, erin):
    alert = make_alert(org, erin, audio_url="javascript:alert(1)")
    html = render_alert(alert, erin, "email").html
    assert "javascript:" not in html


def test_repeat_alerts_say_so_with_the_window(org, erin):
    text = render_alert(make_alert(org, erin, repeat=True), erin, "email").text
    assert "Repeat: this customer had another recovery alert in the last 60 days" in text


def test_sms_fits_320_characters_and_keeps_the_link(org, erin):
    alert = make_alert(org, erin, comment="Terrible. " * 100)
    sms = render_alert(alert, erin, "sms").text
    assert len(sms) <= SMS_MAX_CHARS
    assert sms.startswith("[URGENT] Recovery: SUP-EMEA – 2/10 – Installation issues")
    assert sms.endswith(f"/responses/{alert.response_id}")


def test_webhook_payload_summarises_the_alert_and_its_links(org, erin):
    alert = make_alert(org, erin)
    payload = render_alert(alert, None, "webhook").payload
    assert payload["type"] == "alert.created"
    expected = {"id": alert.id, "kind": "recovery", "severity": "urgent", "unit": "SUP-EMEA"}
    assert payload["alert"].items() >= expected.items()
    assert payload["response"]["answers"]["comment"] == "It failed twice."
    assert payload["customer"]["email"] == "pat@example.com"
    assert payload["links"]["ticket"] == "https://support.acme.example/tickets/T-1001"
    import json

    json.dumps(payload)  # serialisable as sent


def test_chat_is_short_markdown_with_escaped_customer_text(org, erin):
    alert = make_alert(org, erin, comment="*not* [a link](http://evil.example)")
    text = render_alert(alert, erin, "chat").text
    assert text.startswith("**[URGENT] Recovery: SUP-EMEA")
    assert r"\*not\* \[a link\]\(http://evil.example\)" in text
    assert f"(http://127.0.0.1:8000/responses/{alert.response_id})" in text


def test_rendered_email_is_deliverable_as_multipart(org, erin, settings):
    from closeloop.notify.channels.email import build_message
    from closeloop.notify.outbox import enqueue

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = render_alert(make_alert(org, erin), erin, "email")
    delivery = enqueue(
        channel="email",
        address=erin.email,
        subject=message.subject,
        text=message.text,
        html=message.html,
        idempotency_key="m1",
        now=NOW,
    )
    build_message(delivery).send()
    [sent] = mail.outbox
    assert sent.alternatives[0][1] == "text/html"


# --- whose words: the customer's, or the interviewer's ------------------------------------------------


def test_sms_quotes_the_customers_words_not_the_interviewers_notes(org, erin):
    sms = render_alert(make_alert(org, erin, comment="It failed twice."), erin, "sms").text
    assert '"It failed twice."' in sms
    assert "Sounded close to cancelling" not in sms


def test_sms_without_the_customers_words_gives_the_interviewers_notes_labelled(org, erin):
    alert = make_alert(org, erin, comment="")
    Response.objects.filter(pk=alert.response_id).update(interviewer_notes="Guest mentioned wanting a refund.")
    alert.response.refresh_from_db()
    sms = render_alert(alert, erin, "sms").text
    assert sms.startswith("[URGENT] Recovery: SUP-EMEA – 2/10 – Installation issues Interviewer's notes: ")
    assert 'Interviewer\'s notes: "Guest mentioned wanting a refund."' in sms
    assert sms.endswith(f"/responses/{alert.response_id}")


def test_chat_quotes_the_customer_and_labels_the_interviewers_notes(org, erin):
    text = render_alert(make_alert(org, erin, comment="It failed twice."), erin, "chat").text
    assert "> It failed twice." in text
    assert "> Sounded close" not in text
    assert "_Interviewer's notes:_ Sounded close to cancelling." in text


def test_email_keeps_the_interviewers_notes_in_their_own_labelled_section(org, erin):
    text = render_alert(make_alert(org, erin, comment=""), erin, "email").text
    assert "In the customer's words" not in text
    assert "Interviewer's notes:\n  Sounded close to cancelling." in text


def test_the_webhook_keeps_the_answers_and_the_interviewers_notes_apart(org, erin):
    payload = render_alert(make_alert(org, erin), None, "webhook").payload
    assert payload["response"]["answers"]["comment"] == "It failed twice."
    assert payload["response"]["interviewer_notes"] == "Sounded close to cancelling."


def test_the_webhook_shows_the_customer_as_the_api_does_without_consent(org, erin):
    payload = render_alert(make_alert(org, erin, contact_ok=False), None, "webhook").payload
    customer = payload["customer"]
    assert {key: customer[key] for key in ("name", "email", "phone", "tier", "contact_ok")} == {
        "name": None,
        "email": None,
        "phone": None,
        "tier": "Gold",
        "contact_ok": False,
    }
    assert customer["id"].startswith("C-")
    assert payload["links"]["audio"] is None


def test_the_alert_email_says_when_the_customer_answered_in_the_units_time(org, erin):
    import time_machine

    with time_machine.travel(NOW, tick=False):
        text = render_alert(make_alert(org, erin), erin, "email").text
    # NOW is 10:00 UTC; the unit has no time zone of its own and the organisation's is UTC.
    assert "Submitted Mon 23 Nov, 10:00 UTC" in text
