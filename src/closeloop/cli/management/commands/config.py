"""`closeloop config apply FILE [--dry-run]` and `closeloop config export`."""

from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from closeloop.config.apply import ConfigInvalid, Drift, Plan, apply_config, drift
from closeloop.config.export import export_config
from closeloop.config.text_effect import examples_effect
from closeloop.config.validate import load_config
from closeloop.org.directory import current_organization

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
        apply.add_argument(
            "--force",
            action="store_true",
            help="overwrite changes made in the settings pages since the last apply without asking",
        )
        actions.add_parser("export", help="print the current configuration as YAML")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self.stdout.write(export_config(), ending="")
            return
        stdin = options.get("stdin") or sys.stdin
        text = self.read(options["file"], stdin)
        try:
            planned = apply_config(text, dry_run=True)
            if not options["dry_run"]:
                self.confirm_drift(drift(planned), options, stdin)
            plan = planned if options["dry_run"] else apply_config(text, actor_name=_operator())
        except ConfigInvalid as invalid:
            for problem in invalid.problems:
                self.stderr.write(problem)
            count = len(invalid.problems)
            raise CommandError(
                f"{options['file']}: {count} problem{'s' if count != 1 else ''}; nothing was written",
                returncode=INVALID,
            ) from None
        if options["dry_run"]:
            self.show_drift(drift(planned))
        for line in plan.lines():
            self.stdout.write(line)
        if options["dry_run"]:
            self.show_text_effect(plan, text)

    def show_text_effect(self, plan: Plan, text: str) -> None:
        """New text model examples: how the last 30 days' comments would be judged with them."""
        if not any(change.section == "text_model" and change.action != "kept" for change in plan.changes):
            return
        effect = examples_effect(load_config(text), now=timezone.now())
        if effect is not None:
            for line in effect.lines():
                self.stdout.write(line)

    def show_drift(self, found: list[Drift]) -> None:
        if not found:
            return
        self.stdout.write("Changes made in the settings pages since the file was last applied, which it overwrites:")
        for item in found:
            change = item.change
            when = change.at.astimezone(ZoneInfo(current_organization().time_zone)).strftime("%Y-%m-%d %H:%M %Z")
            who = change.actor_name or "someone"
            self.stdout.write(f"  {when} by {who}: {change.summary or ', '.join(change.lines)}")
            for line in item.overwritten:
                self.stdout.write(f"    would become: {line}")

    def confirm_drift(self, found: list[Drift], options: dict[str, Any], stdin: TextIO) -> None:
        """Changes made in the product are not overwritten silently: ask, or refuse when nobody can answer."""
        if not found or options["force"]:
            return
        self.show_drift(found)
        # The file itself may come from standard input, which then cannot also answer the question.
        if options["file"] == "-" or not stdin.isatty():
            raise CommandError(
                "the file would overwrite changes made in the settings pages (listed above); export the current "
                "configuration with `closeloop config export` to keep them, or run again with --force to "
                "overwrite them. Nothing was written.",
                returncode=INVALID,
            )
        self.stdout.write("Apply the file and overwrite them? [y/N] ", ending="")
        self.stdout.flush()
        answer = stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise CommandError("nothing was written", returncode=1)

    def read(self, name: str, stdin: TextIO) -> str:
        if name == "-":
            return stdin.read()
        try:
            return Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {name}: {exc}", returncode=INVALID) from None


def _operator() -> str:
    """Who ran the command, for the log of changes: the operating system's user."""
    try:
        return f"{getpass.getuser()} (config apply)"
    except (KeyError, OSError):
        return "config apply"
