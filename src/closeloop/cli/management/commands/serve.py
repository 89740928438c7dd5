"""`closeloop serve`: HTTP only, gunicorn with several worker processes."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from gunicorn.app.base import BaseApplication

from closeloop.cli.gunicorn_logging import GunicornLogger
from closeloop.cli.text_model import announce_text_model, examples_to_warm, warm_up_in_background
from closeloop.textmodel import Examples
from closeloop.wsgi import application


def close_database_connections() -> None:
    """Close every connection this process holds, so that a forked worker never inherits one.

    A forked worker would share the master's socket to the database: two processes talking over
    one PostgreSQL conversation read each other's replies, and requests fail or hang.
    """
    connections.close_all()


def _before_fork(server: Any, worker: Any) -> None:
    close_database_connections()


def _warm_up_after_fork(examples: Examples | None) -> Any:
    """gunicorn's post_fork hook: each worker warms its own text model (never the master: see cli.text_model)."""

    def post_fork(server: Any, worker: Any) -> None:
        warm_up_in_background(examples)

    return post_fork


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return application


class Command(BaseCommand):
    help = "Serve the web app and API over HTTP with gunicorn (no worker: run `closeloop worker` beside it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=min(4, 2 * (os.cpu_count() or 1)))

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        # Loading the model's package here only maps its weights: the workers forked below can still run it.
        self.stdout.write(announce_text_model())
        examples = examples_to_warm()
        # The migration check on start-up opened a connection in this (the master) process.
        close_database_connections()
        _Gunicorn(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "accesslog": "-",
                "logger_class": GunicornLogger,
                "timeout": 60,
                "graceful_timeout": 20,
                # Files gunicorn creates (its heartbeat files, a unix socket) are the owner's only.
                "umask": 0o077,
                # Load the app before forking so a configuration error stops start-up once, clearly.
                "preload_app": True,
                # Anything the master opened since (a reload, a signal handler) is closed again.
                "pre_fork": _before_fork,
                "post_fork": _warm_up_after_fork(examples),
            }
        ).run()
