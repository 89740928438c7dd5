"""The data the text model is measured on is the data it says it is."""

from __future__ import annotations

import hashlib

from tests.textmodel.data import LANGUAGES, TEXTS, comments


def test_the_rated_sets_are_the_published_files_unchanged() -> None:
    folder = TEXTS / "vader_icwsm2014"
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        expected, name = line.split()
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == expected, name
    assert (folder / "LICENSE.txt").read_text().startswith("The MIT License (MIT)")


def test_every_language_has_thirty_two_unhappy_thirty_happy_and_ten_neutral_comments() -> None:
    for language in LANGUAGES:
        kinds = [kind for kind, _ in comments(language)]
        assert (kinds.count("unhappy"), kinds.count("happy"), kinds.count("neutral")) == (32, 30, 10), language
        texts = [text for _, text in comments(language)]
        assert len(set(texts)) == len(texts), language
