"""A dry run of one saved request through a source: verification (optional), the map, and what storing
would do. Nothing is written; for an administrator checking a mapping before the tool goes live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from closeloop.connectors import Fetch, Ignored, Inbound, http
from closeloop.feedback.catalog import Catalog
from closeloop.feedback.store import IntakeNote, Preview, preview_responses
from closeloop.intake.sources import SourceEntry, usable


@dataclass(frozen=True)
class TrialItem:
    body: dict[str, Any]
    problems: tuple[str, ...]
    would_be: Preview

    def as_dict(self) -> dict[str, Any]:
        preview = self.would_be
        outcome: dict[str, Any] = {"outcome": preview.outcome}
        if preview.outcome == "rejected":
            outcome["errors"] = list(preview.errors)
        else:
            outcome["status"] = preview.status
            outcome["problems"] = list(preview.problems)
        if preview.existing is not None:
            outcome["response"] = preview.existing
        return {"body": self.body, "problems": list(self.problems), "would_be": outcome}


@dataclass(frozen=True)
class Trial:
    source: str
    tool: str
    survey: str
    verified: bool
    event_id: str = ""
    merge: bool = False
    ignored: str = ""
    items: list[TrialItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": self.source,
            "tool": self.tool,
            "survey": self.survey,
            "verified": self.verified,
        }
        if self.ignored:
            data["ignored"] = self.ignored
        else:
            data.update(event_id=self.event_id, merge=self.merge)
        data["items"] = [item.as_dict() for item in self.items]
        return data


def try_payload(
    entry: SourceEntry,
    inbound: Inbound,
    *,
    catalog: Catalog,
    now: datetime,
    tiers: Mapping[str, str] | None = None,
    verify: bool = True,
    fetch: Fetch = http.fetch,
) -> Trial:
    """Run `inbound` through the source; raises the connector's refusal (SignatureInvalid, PayloadUnreadable,
    FetchFailed, SecretUnavailable) or SourceUnusable. An event the tool would not have stored is a result."""
    spec, survey = usable(entry, catalog)
    trial = Trial(source=entry.key, tool=spec.tool, survey=survey.key, verified=verify)
    if verify:
        spec.connector.verify(inbound, spec, now)
    try:
        translation = spec.connector.translate(inbound, spec, survey=survey, fetch=fetch)
    except Ignored as exc:
        return replace(trial, ignored=exc.reason)
    bodies = [item.body for item in translation.items]
    notes = [IntakeNote(item.problems) for item in translation.items]
    previews = preview_responses(bodies, catalog=catalog, now=now, notes=notes, merge=translation.merge, tiers=tiers)
    items = [
        TrialItem(item.body, item.problems, preview) for item, preview in zip(translation.items, previews, strict=True)
    ]
    return replace(trial, event_id=translation.event_id, merge=translation.merge, items=items)


def guess_content_type(body: bytes, name: str = "") -> str:
    """The Content-Type a saved request was most likely sent with, when none is given with it.

    A multipart body starts with its boundary line, so the boundary is read from there.
    """
    head = body.lstrip()
    if head.startswith(b"--"):
        boundary = head.splitlines()[0][2:].strip().decode("latin-1")
        return f"multipart/form-data; boundary={boundary}"
    if name.endswith((".form", ".urlencoded")) or (b"=" in head[:200] and not head.startswith((b"{", b"["))):
        return "application/x-www-form-urlencoded"
    return "application/json"
