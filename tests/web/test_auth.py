"""Signing in and out, password reset by email, and CSRF on every form."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from closeloop.notify.models import Delivery
from tests.web.conftest import PASSWORD, login_as

PAGES = ["/", "/monitor/", "/responses/", "/alerts/", "/praise/", "/reports/", "/outbox/", "/recovery-notes"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_a_stranger_to_the_login_page(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_person_signs_in_with_their_configuration_id(acme: None) -> None:
    login_as("erin")  # sets the password
    client = Client()
    page = client.get("/login/")
    assert b'<label for="id_username">User name</label>' in page.content
    assert b"Skip to content" in page.content
    response = client.post("/login/", {"username": "erin", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"Performance monitor" in client.get("/").content


def test_a_wrong_password_says_so_without_telling_which_part_was_wrong(acme: None) -> None:
    login_as("erin")
    response = Client().post("/login/", {"username": "erin", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_signing_out_needs_a_post(erin: Client) -> None:
    assert erin.get("/logout/").status_code == 405
    assert erin.post("/logout/").status_code == 302
    assert erin.get("/").status_code == 302


def test_every_page_has_a_sign_out_form_with_a_csrf_token(erin: Client) -> None:
    page = erin.get("/").content.decode()
    assert re.search(
        r'<form class="signout" method="post" action="/logout/">\s*<input type="hidden" name="csrfmiddlewaretoken"',
        page,
    )


def test_forms_without_the_csrf_token_are_refused(acme: None, failed_install) -> None:  # type: ignore[no-untyped-def]
    login_as("erin")
    client = Client(enforce_csrf_checks=True)
    client.login(username="erin", password=PASSWORD)
    response = client.post(f"/cases/{failed_install.pk}/notes", {"author": "Erin", "text": "Called."})
    assert response.status_code == 403


def test_password_reset_mails_a_link_that_sets_a_new_password(acme: None) -> None:
    login_as("erin")
    client = Client()
    assert b"Reset your password" in client.get("/password-reset/").content
    response = client.post("/password-reset/", {"email": "erin@acme.example"})
    assert response["Location"] == "/password-reset/sent/"
    # Like every message, the email waits in the outbox for the worker.
    email = Delivery.objects.get(topic="password")
    assert (email.channel, email.address, email.person.key) == ("email", "erin@acme.example", "erin")  # type: ignore[union-attr]
    assert email.text.count(settings.SITE_URL.rstrip("/") + "/password-reset/") == 1
    link = re.search(r"https?://[^/]+(/password-reset/\S+/)", email.text).group(1)  # type: ignore[union-attr]
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-much-longer-secret", "new_password2": "a-much-longer-secret"}
    )
    assert done["Location"] == "/password-reset/done/"
    assert get_user_model().objects.get(username="erin").check_password("a-much-longer-secret")


def test_an_unknown_address_sends_nothing_and_says_the_same(acme: None) -> None:
    response = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/password-reset/sent/"
    assert not Delivery.objects.filter(topic="password").exists()
