"""Reading the hand-written comment sets and the theme sets under tests/fixtures/texts/."""

from __future__ import annotations

from pathlib import Path

TEXTS = Path(__file__).resolve().parent.parent / "fixtures" / "texts"
LANGUAGES = ("en", "fr", "es", "de")


def rows(name: str) -> list[tuple[str, str]]:
    """(label, text) of a tab-separated fixture, without its comment lines."""
    found = []
    for line in (TEXTS / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t")
            found.append((label, text))
    return found


def comments(language: str) -> list[tuple[str, str]]:
    return rows(f"comments_{language}.tsv")
