"""`closeloop customer export ID` and `closeloop customer erase ID`: a customer's right to their data."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from closeloop.actions.privacy import UnknownCustomer, erase_customer_data, export_customer


def _operator() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"command line ({getpass.getuser()})"
    except (KeyError, OSError):
        return "command line"


class Command(BaseCommand):
    help = "Export everything stored about one customer as JSON, or erase their personal data everywhere."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="print (or write) everything stored about the customer as JSON")
        export.add_argument("customer_id", help="the customer's id as the survey tool sent it")
        export.add_argument("--output", help="write the JSON to this file instead of printing it")
        erase = actions.add_parser("erase", help="erase the customer's name, contact details, words and recordings")
        erase.add_argument("customer_id")
        erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        customer_id = options["customer_id"]
        try:
            if options["action"] == "export":
                self._export(customer_id, options["output"])
            else:
                self._erase(customer_id, confirmed=options["yes"])
        except UnknownCustomer as exc:
            raise CommandError(f"customer_id: {exc}", returncode=2) from None

    def _export(self, customer_id: str, output: str | None) -> None:
        data = export_customer(customer_id, actor_name=_operator(), now=timezone.now())
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
        if output:
            path = Path(output)
            path.write_text(text + "\n", encoding="utf-8")
            path.chmod(0o600)  # it is the customer's personal data
            self.stdout.write(f"wrote {path}")
        else:
            self.stdout.write(text)

    def _erase(self, customer_id: str, *, confirmed: bool) -> None:
        if not confirmed:
            answer = input(
                f"Erase the personal data of customer {customer_id!r} everywhere? This cannot be undone. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("nothing was erased", returncode=1)
        summary = erase_customer_data(customer_id, actor_name=_operator(), now=timezone.now())
        self.stdout.write(
            f"erased customer {customer_id}: {summary['responses']} responses, {summary['cases']} cases, "
            f"{summary['messages']} messages, {summary['spikes']} spike alerts, {summary['recordings']} recordings"
        )
