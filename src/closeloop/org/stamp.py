"""The configuration stamp: one token that changes with every configuration change, and the per-process
views of the configuration that are rebuilt only when it does.

Every ingest needs much of the configuration; reading it afresh cost some twenty queries per response.
Each app keeps a read-only view of its own configuration rows (`cached_view`), and every use compares
the stored token with the one the view was built for: one primary-key read instead of twenty. Each
change to a configuration row (config apply, the admin) writes a new random token in the same
transaction; each app connects its own configuration models in its `AppConfig.ready` (`stamp_on_change`).
A random token (not a counter) stays correct when transactions roll back. Views are shared between
threads: never modify them.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.apps import AppConfig, apps
from django.db import connection
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

# Each app's AppConfig.ready imports this module while models are still loading, so the stamp's model
# is looked up when first used, not imported.
_STAMP_TABLE = "org_configstamp"

_lock = threading.Lock()
# name -> (token it was built for, the view)
_views: dict[str, tuple[str | None, Any]] = {}


_UNPINNED = object()
# Set by `pinned`: the token every view is taken for, instead of reading the stamp again.
_pinned: contextvars.ContextVar[object] = contextvars.ContextVar("closeloop_config_token", default=_UNPINNED)


@contextlib.contextmanager
def pinned(token: str | None) -> Iterator[None]:
    """Within it, the configuration is the one of `token`, which the caller has just read: an action that took
    its snapshot (config.snapshot.current) reads the stamp once, not once for each view it uses on the way,
    and sees one configuration from start to end even when a change commits meanwhile."""
    reset = _pinned.set(token)
    try:
        yield
    finally:
        _pinned.reset(reset)


def stored_token() -> str | None:
    """The token as this connection sees it now (or as pinned by `pinned`)."""
    token = _pinned.get()
    if token is not _UNPINNED:
        return token  # type: ignore[return-value]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {_STAMP_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def cached_view(name: str, build: Callable[[], T], token: str | None = None) -> T:
    """The view called `name` for the configuration as stored now, built by `build` when it changed.

    Pass `token` when the caller has just read it (one read for several views)."""
    if token is None:
        token = stored_token()
    cached = _views.get(name)
    if cached is not None and cached[0] == token:
        view: T = cached[1]
        return view
    view = build()
    with _lock:
        _views[name] = (token, view)
    return view


def forget() -> None:
    """Drop this process's views (tests call it between cases)."""
    with _lock:
        _views.clear()


def stamp() -> None:
    """Record that the configuration changed; call inside the transaction that changed it."""
    apps.get_model("org", "ConfigStamp").objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})
    forget()


def _configuration_changed(sender: type, **kwargs: object) -> None:
    stamp()


def stamp_on_change(app: AppConfig, model_names: Iterable[str]) -> None:
    """Any change to these models of `app`, however it is made, makes every process's views stale.

    Bulk writes send no signals: `config apply` stamps once itself after writing."""
    for name in model_names:
        model = app.get_model(name)
        uid = f"{app.label}.{name}"
        post_save.connect(_configuration_changed, sender=model, dispatch_uid=f"config-stamp-save-{uid}")
        post_delete.connect(_configuration_changed, sender=model, dispatch_uid=f"config-stamp-delete-{uid}")
