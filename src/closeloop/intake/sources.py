"""The configured sources as the receiving endpoint needs them: each stored entry loaded once per
configuration change, and the target survey in the connectors' terms."""

from __future__ import annotations

from dataclasses import dataclass

from closeloop.connectors import ConnectorError, SourceInvalid, SourceSpec, Survey, load_source
from closeloop.feedback.catalog import Catalog
from closeloop.intake.models import Source
from closeloop.org.stamp import cached_view


@dataclass(frozen=True)
class SourceEntry:
    """A stored source; `spec` is None (and `problem` says why) when its entry no longer loads."""

    row: Source
    spec: SourceSpec | None
    problem: str = ""

    @property
    def key(self) -> str:
        return self.row.key


def _build() -> dict[str, SourceEntry]:
    entries = {}
    for row in Source.objects.filter(active=True):
        try:
            # The secret file is read at each use, so a missing one is a 503 then, not a broken source now.
            entries[row.key] = SourceEntry(row, load_source(row.entry, check_files=False))
        except SourceInvalid as exc:
            entries[row.key] = SourceEntry(row, None, "; ".join(exc.problems))
    return entries


def active_sources(token: str | None = None) -> dict[str, SourceEntry]:
    """Every active source by key (shared and read-only)."""
    return cached_view("intake.sources", _build, token)


def source_entry(key: str) -> SourceEntry | None:
    return active_sources().get(key)


class SourceUnusable(ConnectorError):
    """The stored source cannot be used now (its entry no longer loads, its survey is gone): the tool retries."""

    status = 503


def usable(entry: SourceEntry, catalog: Catalog) -> tuple[SourceSpec, Survey]:
    """The source's spec and its survey; raises SourceUnusable saying why not."""
    if entry.spec is None:
        raise SourceUnusable(f"source {entry.key!r} cannot be used: {entry.problem}")
    survey = target_survey(catalog, entry.spec.survey)
    if survey is None:
        raise SourceUnusable(f"source {entry.key!r} feeds survey {entry.spec.survey!r}, which is not configured")
    return entry.spec, survey


def target_survey(catalog: Catalog, key: str) -> Survey | None:
    """The survey `key` as the connectors see it (its questions and overall question), or None if it is gone."""
    info = catalog.surveys.get(key)
    if info is None:
        return None
    return Survey(key, info.questions, overall=info.survey.overall)
