"""The `closeloop` command: Django's management entry point with closeloop's settings."""

import os
import sys

import django
from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line

from closeloop.cli.migrate_on_start import COMMANDS_NEEDING_SCHEMA, migrate_if_needed

# Everything a closeloop process creates (the SQLite database with its -wal and -shm files, uploaded
# audio, the secret key, logs written to files) is readable by the operator's account only.
PRIVATE_UMASK = 0o077


def main() -> None:
    os.umask(PRIVATE_UMASK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    try:
        command = sys.argv[1] if len(sys.argv) > 1 else ""
        if command in COMMANDS_NEEDING_SCHEMA:
            django.setup()
            migrate_if_needed()
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad environment variable: say which, without a traceback.
        print(f"closeloop: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
