"""`closeloop serve`: HTTP only, gunicorn with several worker processes."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from gunicorn.app.base import BaseApplication

from closeloop.wsgi import application


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
        _Gunicorn(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "accesslog": "-",
                "timeout": 60,
                "graceful_timeout": 20,
                # Load the app before forking so a configuration error stops start-up once, clearly.
                "preload_app": True,
            }
        ).run()
