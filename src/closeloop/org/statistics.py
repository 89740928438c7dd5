"""Planner statistics: refreshed after migrating and after big imports.

SQLite plans without statistics until ANALYZE has run, and then guesses: at a million responses it picked
the index on `superseded_by` for the response lists and walked every recovery alert for the repeat-failure
lookup. PostgreSQL's autovacuum analyzes eventually, but not in the minutes after an import of a year of
history, when the first reports are asked for.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

# A full ANALYZE, not a sampled one (PRAGMA analysis_limit): measured at 100,000 responses, statistics from
# 1,000 sampled rows per index made the response lists two to four times slower than full ones
# (docs/benchmarks.md); a full pass reads each index once, seconds at a million rows.
# An import that created at least this many responses refreshes the statistics when it ends.
BIG_IMPORT = 1000


def refresh_statistics(using: str = DEFAULT_DB_ALIAS) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor in ("sqlite", "postgresql"):
            cursor.execute("ANALYZE")


def after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate handler (connected for this app only, so it runs once per `migrate`, also one with nothing
    to apply: `closeloop run` migrates at every start). A `flush` sends the signal without a plan: an emptied
    database has nothing to measure."""
    if "plan" in kwargs:
        refresh_statistics(using)
