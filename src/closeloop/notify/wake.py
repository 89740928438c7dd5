"""Waking an in-process worker when new deliveries are committed, instead of waiting for its next poll.

The outbox sets the event after a commit that inserted pending rows; the worker (closeloop.worker)
waits on it between rounds. It lives here, below the worker, because the outbox is what knows.
"""

from __future__ import annotations

import threading

_wake = threading.Event()


def wake_worker() -> None:
    """Make an in-process worker look for due work now instead of at its next poll."""
    _wake.set()


def wait_for_wake(timeout: float) -> bool:
    """Block until woken or `timeout` seconds have passed; True when woken."""
    return _wake.wait(timeout)


def clear_wake() -> None:
    _wake.clear()
