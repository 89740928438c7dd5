"""`closeloop ingest-activity FILE`: Django names commands after their files; the code is in ingest_activity.py."""

from closeloop.cli.management.commands.ingest_activity import Command

__all__ = ["Command"]
