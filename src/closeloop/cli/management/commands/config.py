"""`closeloop config apply FILE [--dry-run]` and `closeloop config export`."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from closeloop.config.apply import ConfigInvalid, apply_config
from closeloop.config.export import export_config

INVALID = 2


class Command(BaseCommand):
    help = "Apply the organisation's YAML configuration file, or export the current one."
    # Lets call_command hand in the text that `apply -` reads, as createsuperuser does.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{apply,export}")
        apply = actions.add_parser("apply", help="validate FILE and write its changes (all or nothing)")
        apply.add_argument("file", metavar="FILE", help="the YAML file, or - to read standard input")
        apply.add_argument("--dry-run", action="store_true", help="print the changes without writing them")
        actions.add_parser("export", help="print the current configuration as YAML")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self.stdout.write(export_config(), ending="")
            return
        text = self.read(options["file"], options.get("stdin") or sys.stdin)
        try:
            plan = apply_config(text, dry_run=options["dry_run"])
        except ConfigInvalid as invalid:
            for problem in invalid.problems:
                self.stderr.write(problem)
            count = len(invalid.problems)
            raise CommandError(
                f"{options['file']}: {count} problem{'s' if count != 1 else ''}; nothing was written",
                returncode=INVALID,
            ) from None
        for line in plan.lines():
            self.stdout.write(line)

    def read(self, name: str, stdin: TextIO) -> str:
        if name == "-":
            return stdin.read()
        try:
            return Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {name}: {exc}", returncode=INVALID) from None
