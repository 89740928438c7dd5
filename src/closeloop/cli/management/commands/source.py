"""`closeloop source test KEY FILE`: run a saved request through a source's verification and map, store nothing."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from closeloop.config.snapshot import current
from closeloop.connectors import ConnectorError, Inbound
from closeloop.intake.sources import active_sources, source_entry
from closeloop.intake.trial import guess_content_type, try_payload

INVALID = 2


class Command(BaseCommand):
    help = "Check a configured source with a saved request: verification, the map, and what would be stored."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{test}")
        test = actions.add_parser(
            "test",
            help="run FILE (a request body the tool sent) through source KEY and print the items as JSON; "
            "nothing is stored",
        )
        test.add_argument("key", metavar="KEY", help="the source's key, as in POST /hooks/KEY")
        test.add_argument("file", metavar="FILE", type=Path, help="the raw request body")
        test.add_argument(
            "--header",
            action="append",
            default=[],
            metavar="'Name: value'",
            help="a request header (the signature, the Content-Type, ...); repeat for more",
        )
        test.add_argument("--query", default="", metavar="'token=...'", help="the URL's query string, if any")
        test.add_argument(
            "--no-verify",
            action="store_true",
            help="skip the signature or token check (a saved request's signed timestamp is usually stale)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key: str = options["key"]
        entry = source_entry(key)
        if entry is None:
            known = ", ".join(sorted(active_sources())) or "none configured"
            raise CommandError(f"unknown source {key!r} (known: {known})", returncode=INVALID)
        path: Path = options["file"]
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror})", returncode=INVALID) from None
        headers = [_header(text) for text in options["header"]]
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", guess_content_type(body, path.name)))
        now = timezone.now()
        inbound = Inbound.build(body, headers, query=options["query"].lstrip("?"), received_at=now)
        try:
            snapshot = current()
            trial = try_payload(
                entry, inbound, catalog=snapshot.catalog, tiers=snapshot.tiers, now=now, verify=not options["no_verify"]
            )
        except ConnectorError as exc:
            raise CommandError(f"{exc.status}: {exc.reason}", returncode=INVALID) from None
        self.stdout.write(json.dumps(trial.as_dict(), indent=2, ensure_ascii=False))


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise CommandError(f"--header {text!r}: write it as 'Name: value'", returncode=INVALID)
    return name.strip(), value.strip()
