"""The worker's LISTEN connection is for PostgreSQL only; elsewhere the worker polls."""

from __future__ import annotations

import pytest

from closeloop.notify.wake import Listener


@pytest.mark.django_db
def test_a_listener_starts_on_postgresql_only(is_postgres: bool):
    listener = Listener()
    try:
        assert listener.start() is is_postgres
        if is_postgres:
            assert listener.listening.wait(timeout=30), "the listener never listened"
        else:
            assert not listener.listening.is_set()
    finally:
        listener.stop()
    assert not listener.listening.is_set()
