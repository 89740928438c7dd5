"""`closeloop demo`: load the demo organisation and a month of responses (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from closeloop.cli.site_url import use_served_address
from closeloop.config.apply import ConfigInvalid
from closeloop.demo.generate import LOGIN_FILE, DemoReport, load_demo
from closeloop.notify.links import absolute_url


class Command(BaseCommand):
    help = (
        "Load the demo organisation (units, people, surveys, rules, case templates, digests) and about 500 "
        "responses spread over the last 30 days. Running it again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # The demo's messages carry links; they should name the address `closeloop run` will serve.
        parser.add_argument("--host", help="the host `closeloop run` will serve, for links (default 127.0.0.1)")
        parser.add_argument("--port", type=int, help="the port `closeloop run` will serve, for links (default 8000)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("host") or options.get("port"):
            use_served_address(options.get("host") or "127.0.0.1", options.get("port") or 8000)
        console = Console(stderr=True)
        with Progress(
            TextColumn("Loading demo responses"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=True,
        ) as progress:
            task = progress.add_task("demo", total=None)
            try:
                report = load_demo(
                    now=timezone.now(),
                    on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
            except ConfigInvalid as exc:
                # The demo file ships with closeloop, so this is a bug, but say exactly what is wrong.
                raise CommandError(
                    "the demo configuration is invalid:\n" + "\n".join(exc.problems), returncode=2
                ) from exc
        self.stdout.write(_summary(report))


def _summary(report: DemoReport) -> str:
    if report.skipped:
        return f"Demo not loaded: {report.skipped}."
    lines = [
        f"Demo organisation: {report.organization}"
        + (" (configured now)" if report.configured else " (already configured)"),
        f"Responses: {report.created} created, {report.invalid} invalid (quarantined to show fixing), "
        f"{report.already_loaded} already loaded",
    ]
    if report.cases.viewed:
        work = report.cases
        lines.append(
            f"Cases worked on by the demo team: {work.viewed} viewed, {work.contacted} customers called, "
            f"{work.closed} closed"
        )
    if report.rejected:
        lines.append(f"{len(report.rejected)} demo responses were rejected:")
        lines += [f"  {reason}" for reason in report.rejected]
    if report.login is None:
        lines.append("An 'admin' user already exists with its own password; the demo did not change it.")
    else:
        username, password = report.login
        saved = settings.CLOSELOOP_HOME / LOGIN_FILE
        if report.login_is_new:
            # Shown this once; logs and later runs only say where it is kept.
            lines.append(f"Log in at {absolute_url('login')} as {username} with password {password}")
            lines.append(f"  (saved in {saved}, readable by this account only; it is not shown again)")
        else:
            lines.append(f"Log in at {absolute_url('login')} as {username}; the password is in {saved}")
        if report.people_with_login:
            lines.append(f"  Demo people ({', '.join(report.people_with_login)}) use their id and the same password.")
    return "\n".join(lines)
