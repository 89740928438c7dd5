"""Waking workers when new deliveries are committed, instead of waiting for their next poll.

Two wakes, one signal. In the process that committed, a threading.Event wakes the worker thread of
`closeloop run`. On PostgreSQL the committing transaction also issues `NOTIFY closeloop_wake`, which
the database delivers on commit (and drops on rollback) to every process that LISTENs: a
`closeloop worker` elsewhere keeps a connection of its own for that (`Listener`), and sets its own
event on each notification. Whatever is missed (SQLite, a listen connection that is down, a process
that was restarting) is found by the worker's poll, which stays the upper bound on the wait.

It lives here, below the worker, because the outbox is what knows when there is something to send.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger("closeloop.worker")

CHANNEL = "closeloop_wake"
# How long a lost listen connection waits before connecting again (meanwhile the worker polls).
RECONNECT_SECONDS = 2.0
# How often the listening thread looks whether it should stop.
LISTEN_SLICE_SECONDS = 1.0

_wake = threading.Event()


def wake_worker() -> None:
    """Make an in-process worker look for due work now instead of at its next poll."""
    _wake.set()


def wait_for_wake(timeout: float) -> bool:
    """Block until woken or `timeout` seconds have passed; True when woken."""
    return _wake.wait(timeout)


def clear_wake() -> None:
    _wake.clear()


def wake_on_commit(using: str = DEFAULT_DB_ALIAS) -> None:
    """Wake the workers once the current transaction commits (at once outside a transaction).

    Once per transaction whatever the number of calls: the in-process wake is registered as a commit
    hook, and while it is registered the NOTIFY has been issued too. A savepoint rolled back takes both
    with it (PostgreSQL drops a notification of an aborted subtransaction), so the next call issues them again.
    """
    connection = connections[using]
    if any(wake_worker in entry for entry in connection.run_on_commit):
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    transaction.on_commit(wake_worker, using=using)


class Listener:
    """A thread that LISTENs on a PostgreSQL connection of its own and wakes this process's worker.

    `start()` does nothing on other databases and returns False: the worker then only polls. A listen
    connection that fails is opened again after `RECONNECT_SECONDS`; on every (re)connection the worker
    is woken once, for what was committed while nobody listened.
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        if connections[self.using].vendor != "postgresql":
            return False
        self._thread = threading.Thread(target=self._run, name="closeloop-listen", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=LISTEN_SLICE_SECONDS * 5)

    def _connect(self) -> psycopg.Connection:
        params = connections[self.using].get_connection_params()
        return psycopg.connect(**params, autocommit=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as listen:
                    listen.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    logger.info("worker listening for new deliveries")
                    wake_worker()
                    while not self._stop.is_set():
                        for _ in listen.notifies(timeout=LISTEN_SLICE_SECONDS):
                            wake_worker()
            except psycopg.Error as exc:
                was_listening = self.listening.is_set()
                self.listening.clear()
                logger.warning(
                    "worker listen connection %s (%s); polling until it is back",
                    "lost" if was_listening else "failed",
                    type(exc).__name__,
                )
                self._stop.wait(RECONNECT_SECONDS)
        self.listening.clear()
