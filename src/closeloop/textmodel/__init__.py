"""Hearing an unhappy customer in their own words, in any language.

Self-contained: no Django, and nothing of closeloop but ``closeloop.core``. The whole interface:

- ``judge_for(examples=None)`` -> the process-wide ``Judge`` (model if its package loads, fallback otherwise);
- ``Judge.judge(voices)`` -> ``list[Judgement]``, one per voice (a string, or the answers of one response);
- ``Judge.embed(texts)`` -> ``numpy`` array (n, d) of L2-normalised vectors;
- ``judge_status(examples=None)`` -> ``JudgeStatus``: which judge is active and why;
- ``example_problems(raw)`` / ``parse_examples(raw)`` for ``text_model.examples`` in the configuration;
- ``themes_for(judge, texts)`` / ``find_themes(...)`` / ``compare_periods(...)`` to group unhappy
  comments into themes and follow them from one period to the next.
"""

from closeloop.textmodel.judgement import LABELS, Judge, Judgement, Label, SentenceNote, Voice
from closeloop.textmodel.prototypes import (
    LANGUAGES,
    Examples,
    ExamplesError,
    example_problems,
    parse_examples,
)
from closeloop.textmodel.selection import JudgeStatus, judge_for, judge_status, select_judge
from closeloop.textmodel.themes import Period, Theme, ThemeChange, compare_periods, find_themes, themes_for

__all__ = [
    "LABELS",
    "LANGUAGES",
    "Examples",
    "ExamplesError",
    "Judge",
    "JudgeStatus",
    "Judgement",
    "Label",
    "Period",
    "SentenceNote",
    "Theme",
    "ThemeChange",
    "Voice",
    "compare_periods",
    "example_problems",
    "find_themes",
    "judge_for",
    "judge_status",
    "parse_examples",
    "select_judge",
    "themes_for",
]
