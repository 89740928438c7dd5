from datetime import timedelta

from closeloop.notify.retry import gives_up, retry_delay, retry_for
from tests.notify.conftest import NOW


def test_retry_delay_doubles_from_thirty_seconds():
    middle = lambda: 0.5  # noqa: E731 - no jitter at the midpoint
    assert [retry_delay(n, middle).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_retry_delay_is_capped_at_ten_minutes():
    assert retry_delay(30, lambda: 0.5) == timedelta(minutes=10)


def test_retry_delay_jitter_stays_within_ten_percent():
    assert retry_delay(1, lambda: 0.0).total_seconds() == 27
    assert retry_delay(1, lambda: 1.0).total_seconds() == 33


def test_the_retry_window_is_a_day_unless_configured(settings):
    assert retry_for() == timedelta(hours=24)
    settings.CLOSELOOP_RETRY_FOR = timedelta(hours=6)
    assert retry_for() == timedelta(hours=6)


def test_a_delivery_gives_up_only_once_it_has_failed_for_the_whole_window():
    assert not gives_up(NOW, NOW + timedelta(hours=23, minutes=59))
    assert gives_up(NOW, NOW + timedelta(hours=24))


def test_a_delivery_retried_all_day_still_waits_ten_minutes():
    assert retry_delay(500, lambda: 0.5) == timedelta(minutes=10)
