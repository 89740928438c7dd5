"""`closeloop token create|list|revoke`: API tokens. A new token is shown once; only its hash is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from closeloop.api.models import SCOPES, ApiToken, hash_token
from closeloop.org.models import Person, Unit

HINT_LENGTH = 8


def parse_scopes(raw: str) -> list[str]:
    """`"ingest, read"` -> `["ingest", "read"]`; CommandError (exit 2) naming any unknown scope."""
    scopes = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not scopes:
        raise CommandError(f"--scopes: give at least one of {', '.join(SCOPES)}", returncode=2)
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise CommandError(
            f"--scopes: unknown scope {', '.join(repr(s) for s in unknown)}; the scopes are {', '.join(SCOPES)}",
            returncode=2,
        )
    return scopes


def parse_units(raw: str) -> list[str]:
    """`"SUP-EMEA, SUP-UK"` -> the unit codes; CommandError (exit 2) naming any unit not configured."""
    codes = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not codes:
        raise CommandError("--units: give at least one unit code, e.g. --units SUP-EMEA,SUP-UK", returncode=2)
    known = set(Unit.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise CommandError(f"--units: unknown unit {', '.join(repr(code) for code in unknown)}", returncode=2)
    return codes


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--name", required=True, help="A name to tell the token apart, e.g. the integration")
        create.add_argument("--scopes", required=True, help=f"Comma-separated: {', '.join(SCOPES)}")
        create.add_argument(
            "--person", help="The person id (from the configuration) the token acts for; it then sees their units only"
        )
        create.add_argument(
            "--units",
            help="Comma-separated unit codes: the token submits responses for these units (with the units below "
            "them) only, and reads nothing outside them",
        )
        actions.add_parser("list", help="List tokens (never their secret).")
        revoke = actions.add_parser("revoke", help="Revoke the active token with this name.")
        revoke.add_argument("--name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options["name"], options["scopes"], options.get("person"), options.get("units"))
        elif action == "list":
            self.list_tokens()
        else:
            self.revoke(options["name"])

    def create(self, name: str, raw_scopes: str, person_key: str | None, raw_units: str | None = None) -> None:
        name = name.strip()
        if not name:
            raise CommandError("--name: must not be empty", returncode=2)
        scopes = parse_scopes(raw_scopes)
        units = parse_units(raw_units) if raw_units is not None else []
        person = None
        if person_key is not None:
            person = Person.objects.filter(key=person_key, active=True).first()
            if person is None:
                raise CommandError(f"--person: unknown person {person_key!r}", returncode=2)
        if ApiToken.objects.filter(name=name, revoked_at__isnull=True).exists():
            raise CommandError(f"--name: an active token named {name!r} exists; revoke it first", returncode=2)
        secret = ApiToken.generate()
        ApiToken.objects.create(
            name=name,
            token_hash=hash_token(secret),
            hint=secret[:HINT_LENGTH],
            scopes=scopes,
            person=person,
            units=units,
        )
        # The secret alone on stdout, so `TOKEN=$(closeloop token create ...)` works; the advice goes to stderr.
        self.stdout.write(secret)
        self.stderr.write(
            f"Created token {name!r} with scopes {','.join(scopes)}"
            + (f" acting for {person.key}" if person else "")
            + (f" limited to {','.join(units)}" if units else "")
            + ". It is shown only this once: store it now."
        )

    def list_tokens(self) -> None:
        tokens = ApiToken.objects.select_related("person").order_by("name", "created_at")
        if not tokens:
            self.stderr.write("No tokens yet: create one with `closeloop token create`.")
            return
        self.stdout.write(f"{'NAME':30} {'HINT':10} {'SCOPES':20} {'PERSON':15} {'UNITS':20} {'LAST USED':25} STATE")
        for token in tokens:
            state = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
            last_used = token.last_used_at.isoformat() if token.last_used_at else "never"
            person = token.person.key if token.person else "-"
            units = ",".join(token.units) or "all"
            self.stdout.write(
                f"{token.name:30} {token.hint:10} {','.join(token.scopes):20} {person:15} {units:20} "
                f"{last_used:25} {state}"
            )

    def revoke(self, name: str) -> None:
        revoked = ApiToken.objects.filter(name=name, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if not revoked:
            raise CommandError(f"--name: no active token named {name!r}", returncode=2)
        self.stdout.write(f"Revoked token {name!r}.")
