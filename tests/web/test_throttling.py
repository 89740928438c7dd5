"""Sign-in and password reset are throttled per account and per client address (django-axes,
django-ratelimit), and the lockout page says when to try again. The clock is moved with time-machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from closeloop.notify.models import Delivery
from tests.web.conftest import PASSWORD, login_as

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def fail(client: Client, username: str, times: int) -> list[int]:
    return [client.post("/login/", {"username": username, "password": "wrong"}).status_code for _ in range(times)]


@pytest.fixture
def erin_account(acme: None) -> None:
    login_as("erin")  # gives erin the test password


def test_ten_wrong_passwords_lock_the_account_and_the_page_says_when_to_try_again(erin_account: None) -> None:
    with time_machine.travel(T0, tick=False):
        assert fail(Client(), "erin", 9) == [200] * 9
        assert fail(Client(), "erin", 1) == [429]
        # Even the right password waits now, from any address.
        locked = Client(REMOTE_ADDR="10.1.2.3").post("/login/", {"username": "erin", "password": PASSWORD})
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page
    # In the organisation's time zone (New York): 14:00 UTC + 15 minutes.
    assert '<time datetime="2026-11-23T09:15:00-05:00">09:15</time>' in page
    assert "(in 15 minutes)" in page
    assert locked["Retry-After"] == "900"


def test_the_lockout_ends_fifteen_minutes_after_the_last_failure(erin_account: None) -> None:
    with time_machine.travel(T0, tick=False):
        fail(Client(), "erin", 10)
    with time_machine.travel(T0 + timedelta(minutes=14), tick=False):
        assert Client().post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 429
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        response = Client().post("/login/", {"username": "erin", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_one_address_trying_many_accounts_is_locked_out_too(erin_account: None) -> None:
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    with time_machine.travel(T0, tick=False):
        statuses = [
            guesser.post("/login/", {"username": f"user{n}", "password": "wrong"}).status_code for n in range(10)
        ]
        assert statuses == [200] * 9 + [429]
        # Erin, from her own address, still signs in: the address is locked, not her account.
        mine = Client(REMOTE_ADDR="198.51.100.7").post("/login/", {"username": "erin", "password": PASSWORD})
    assert mine.status_code == 302


def test_a_successful_sign_in_clears_the_count_of_failures(erin_account: None) -> None:
    with time_machine.travel(T0, tick=False):
        fail(Client(), "erin", 9)
        assert Client().post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 302
        assert fail(Client(), "erin", 9) == [200] * 9


def test_behind_a_proxy_the_address_is_read_from_x_forwarded_for(erin_account: None, settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    with time_machine.travel(T0, tick=False):
        for n in range(10):
            Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").post(
                "/login/", {"username": f"user{n}", "password": "wrong"}
            )
        # Another client through the same proxy is not locked out by the first one's guesses.
        other = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7").post(
            "/login/", {"username": "erin", "password": PASSWORD}
        )
    assert other.status_code == 302


def reset_mails() -> int:
    return Delivery.objects.filter(topic="password").count()


def test_one_reset_mail_per_email_address_per_fifteen_minutes(erin_account: None) -> None:
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            response = Client().post("/password-reset/", {"email": "erin@acme.example"})
            assert (response.status_code, response["Location"]) == (302, "/password-reset/sent/")
        assert reset_mails() == 1
        # Another address is not held back by Erin's.
        login_as("admin")
        Client().post("/password-reset/", {"email": "ada@acme.example"})
        assert reset_mails() == 2
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        Client().post("/password-reset/", {"email": "ERIN@acme.example "})
    assert reset_mails() == 3


def test_many_reset_requests_from_one_address_are_refused_with_a_retry_time(erin_account: None) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    with time_machine.travel(T0, tick=False):
        statuses = [
            client.post("/password-reset/", {"email": f"someone{n}@example.com"}).status_code for n in range(11)
        ]
        refused = client.post("/password-reset/", {"email": "erin@acme.example"})
    assert statuses == [302] * 10 + [429]
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert reset_mails() == 0
