"""The target survey as the map needs it: its question specs and its overall question."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from closeloop.core.answers import QuestionSpec

SCORE_TYPES = ("nps", "scale", "yes_no")


@dataclass(frozen=True)
class Survey:
    key: str
    questions: Mapping[str, QuestionSpec]
    overall: str = ""

    def score_question(self) -> str | None:
        """Where a tool's single rating goes by default: the overall question, else the first score-like one."""
        if self.overall in self.questions:
            return self.overall
        for wanted in SCORE_TYPES:
            for key, spec in self.questions.items():
                if spec.type == wanted:
                    return key
        return None

    def comment_question(self) -> str | None:
        """Where a tool's single free-text comment goes by default: `comment`, else the first text question."""
        spec = self.questions.get("comment")
        if spec is not None and spec.type == "text":
            return "comment"
        return next((key for key, spec in self.questions.items() if spec.type == "text"), None)
