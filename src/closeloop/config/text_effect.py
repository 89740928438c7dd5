"""What new `text_model.examples` would change: the last 30 days' comments judged with the stored examples and
with the file's, for `closeloop config apply --dry-run`.

Only the customer's words are compared (rules' `{text: ...}` act on them). A judgement the response already
keeps counts as the stored examples' verdict when the same judge made it (same version); the others are
judged again. Sentences are embedded once for both judges (the model's cache), so the second judge costs
little more than comparing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from closeloop.alerts.text_judging import CUSTOMER, customer_voice, organization_examples
from closeloop.config.snapshot import current
from closeloop.config.validate import Config
from closeloop.feedback.models import Response
from closeloop.textmodel import Examples, judge_for

DAYS = 30
SHOWN = 5
QUOTE = 120


@dataclass(frozen=True)
class Turned:
    response: int
    before: str
    after: str
    words: str


@dataclass
class ExamplesEffect:
    days: int
    judged: int  # responses with comments in the period
    model: str
    turned: list[Turned] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"text_model: with the new examples, {len(self.turned)} of the {self.judged} responses with comments "
            f"in the last {self.days} days would be judged differently ({self.model})"
        )
        if not self.turned:
            return [head]
        moves = Counter((turn.before, turn.after) for turn in self.turned)
        head += ": " + ", ".join(f"{count} {before} -> {after}" for (before, after), count in moves.most_common())
        lines = [head]
        for turn in self.turned[:SHOWN]:
            words = turn.words if len(turn.words) <= QUOTE else turn.words[: QUOTE - 1] + "\u2026"
            lines.append(f"  response {turn.response}, {turn.before} -> {turn.after}: “{words}”")
        if len(self.turned) > SHOWN:
            lines.append(f"  and {len(self.turned) - SHOWN} more")
        return lines


def examples_effect(config: Config, *, now: datetime, days: int = DAYS) -> ExamplesEffect | None:
    """How the file's examples would change the last `days` days' judgements; None when they are the stored ones."""
    snapshot = current()
    before_examples = organization_examples(snapshot.catalog.organization)
    after_examples: Examples = config.text_examples
    if before_examples == after_examples:
        return None
    types = {
        info.survey.pk: {key: spec.type for key, spec in info.questions.items()}
        for info in snapshot.catalog.surveys.values()
    }
    responses = list(
        Response.objects.filter(
            status=Response.Status.VALID,
            superseded_by__isnull=True,
            submitted_at__gte=now - timedelta(days=days),
            submitted_at__lte=now,
        )
        .exclude(words="")
        .order_by("-submitted_at", "-id")
        .only("id", "survey", "submitted_at", "answers", "text_judgement")
    )
    voiced = [
        (response, customer_voice(response.answers or {}, types.get(response.survey_id, {}))) for response in responses
    ]
    voiced = [(response, voice) for response, voice in voiced if voice]
    before_judge, after_judge = judge_for(before_examples), judge_for(after_examples)
    before: dict[int, str] = {}
    for response, _ in voiced:
        kept = (response.text_judgement or {}).get(CUSTOMER) or {}
        if kept.get("version") == before_judge.version and kept.get("label"):
            before[response.pk] = str(kept["label"])
    missing = [(response, voice) for response, voice in voiced if response.pk not in before]
    for (response, _), judgement in zip(missing, before_judge.judge([voice for _, voice in missing]), strict=True):
        before[response.pk] = judgement.label
    after = after_judge.judge([voice for _, voice in voiced])
    effect = ExamplesEffect(days=days, judged=len(voiced), model=after_judge.model)
    for (response, voice), judgement in zip(voiced, after, strict=True):
        if judgement.label != before[response.pk]:
            effect.turned.append(Turned(response.pk, before[response.pk], judgement.label, " / ".join(voice)))
    return effect
