"""`closeloop run`: migrate, then serve HTTP and run the worker in one process (the embedded default)."""

from __future__ import annotations

import gc
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from waitress.server import create_server

from closeloop.cli.access_log import AccessLog
from closeloop.cli.site_url import use_served_address
from closeloop.cli.text_model import announce_text_model, examples_to_warm, warm_up_in_background
from closeloop.demo.generate import LOGIN_FILE, demo_login
from closeloop.notify.links import absolute_url
from closeloop.worker.runner import Worker
from closeloop.wsgi import application


class Command(BaseCommand):
    help = "Migrate the database, then serve HTTP and run the background worker in this one process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8, help="HTTP request threads")

    def handle(self, *args: Any, host: str, port: int, threads: int, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        # Without SITE_URL, links in messages point at where this server listens.
        use_served_address(host, port)
        # waitress is a production-grade threaded server that runs inside this process, so the
        # worker thread below shares it (and gets woken on commit instead of polling).
        server = create_server(
            # waitress keeps no access log of its own; this one redacts secret URL segments.
            AccessLog(application),
            host=host,
            port=port,
            threads=threads,
            ident="closeloop",
            # waitress buffers a body before the app sees it: cap it near the API limit (the
            # middleware answers 413 with the JSON error for anything over 1 MiB).
            max_request_body_size=8 * settings.CLOSELOOP_MAX_BODY_BYTES,
            # Behind a proxy (SECURE_PROXY_SSL_HEADER, TRUSTED_PROXY_COUNT) its X-Forwarded-* headers
            # reach Django, which decides what to trust; waitress would otherwise drop them.
            clear_untrusted_proxy_headers=not (settings.SECURE_PROXY_SSL_HEADER or settings.TRUSTED_PROXY_COUNT),
        )
        stop = threading.Event()
        worker = threading.Thread(target=Worker(stop).run, name="closeloop-worker", daemon=True)
        worker.start()

        def shutdown(signum: int, frame: object) -> None:
            stop.set()
            server.close()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)

        self.stdout.write(f"closeloop is serving {settings.SITE_URL} (listening on http://{host}:{port}/)")
        self.stdout.write(announce_text_model())
        warm_up_in_background(examples_to_warm())
        login = demo_login()
        if login:
            # The password itself was shown once, by the demo that made it.
            kept_in = settings.CLOSELOOP_HOME / LOGIN_FILE
            self.stdout.write(f"Admin login at {absolute_url('login')}: {login[0]}, password in {kept_in}")
        self.stdout.write("Press Ctrl+C to stop.")
        # Everything loaded so far lives as long as the process: keep it out of the collector's
        # scans, which otherwise walk all of Django on every full collection under load.
        gc.freeze()
        try:
            server.run()
        except OSError:
            # Closing the listening socket from the signal handler ends the loop with EBADF.
            if not stop.is_set():
                raise
        finally:
            stop.set()
            worker.join(timeout=30)
        self.stdout.write("closeloop stopped.")
