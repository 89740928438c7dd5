"""The `closeloop` command: Django's management entry point with closeloop's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        command = sys.argv[1] if len(sys.argv) > 1 else ""
        from closeloop.cli.migrate_on_start import COMMANDS_NEEDING_SCHEMA

        if command in COMMANDS_NEEDING_SCHEMA:
            import django

            django.setup()
            from closeloop.cli.migrate_on_start import migrate_if_needed

            migrate_if_needed()
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad environment variable: say which, without a traceback.
        print(f"closeloop: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
