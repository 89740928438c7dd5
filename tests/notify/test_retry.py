from datetime import timedelta

from closeloop.notify.retry import max_attempts, retry_delay


def test_retry_delay_doubles_from_thirty_seconds():
    middle = lambda: 0.5  # noqa: E731 - no jitter at the midpoint
    assert [retry_delay(n, middle).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_retry_delay_is_capped_at_two_hours():
    assert retry_delay(30, lambda: 0.5) == timedelta(hours=2)


def test_retry_delay_jitter_stays_within_ten_percent():
    assert retry_delay(1, lambda: 0.0).total_seconds() == 27
    assert retry_delay(1, lambda: 1.0).total_seconds() == 33


def test_max_attempts_defaults_to_eight_and_follows_the_setting(settings):
    assert max_attempts() == 8
    settings.CLOSELOOP_MAX_ATTEMPTS = 3
    assert max_attempts() == 3
