"""A response's overall score as lists and pages show it: its value on its scale, a colour that follows the
score (closeloop.core.scores), and, when a rule flagged a good score, the reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from closeloop.alerts.messages import format_number
from closeloop.alerts.models import Alert
from closeloop.core.scores import Band, score_band
from closeloop.feedback.catalog import Catalog
from closeloop.feedback.models import Response

BAND_WORDS = {"low": "low score", "mid": "middling score", "high": "high score"}


@dataclass(frozen=True)
class Score:
    text: str  # "8/10"
    band: Band | None  # None: the survey's scale is no longer known
    flagged_by: tuple[str, ...]  # categories of the recovery alerts, when the score alone would not say so

    @property
    def words(self) -> str:
        return BAND_WORDS[self.band] if self.band else ""


def score_of(response: Response, alerts: Iterable[Alert] = (), catalog: Catalog | None = None) -> Score | None:
    """The score of `response`, or None without one; `alerts` are the response's (to say why it was flagged)."""
    if response.overall is None:
        return None
    catalog = catalog or Catalog.load()
    info = next((s for s in catalog.surveys.values() if s.survey.pk == response.survey_id), None)
    question = info.questions.get(info.survey.overall) if info is not None else None
    if info is None or question is None:
        return Score(text=format_number(response.overall), band=None, flagged_by=())
    nps = question.type == "nps"
    low, high = (0.0, 10.0) if nps else (question.min or 0.0, question.max or 10.0)
    threshold = info.survey.recovery_threshold
    if threshold is None:
        threshold = catalog.organization.recovery_threshold
    band: Band | None = (
        score_band(response.overall, low=low, high=high, threshold=threshold, nps=nps) if high > low else None
    )
    flagged: tuple[str, ...] = ()
    if band != "low":
        flagged = tuple(dict.fromkeys(a.category for a in alerts if a.kind == "recovery"))
    return Score(text=f"{format_number(response.overall)}/{format_number(high)}", band=band, flagged_by=flagged)
