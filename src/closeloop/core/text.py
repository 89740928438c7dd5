"""Free-text analysis for detection rules: normalisation, negation-aware keywords, sentiment.

Keyword matching works on *clauses*: a text is cut at . ! ? ; , : dashes and line breaks, every
clause is normalised (case, accents, punctuation) and split into word tokens. A keyword
(one word or a phrase) matches a run of tokens inside one clause, compared stem by stem with
the Snowball stemmer of the survey's language, so word forms match: "refunds" and "refunded"
hit "refund", "rudeness" hits "rude". An occurrence does not count when a negator ("not",
"never", "wasn't", "without", ...) stands at most ``NEGATION_WINDOW`` tokens before it in the
same clause and no "but"/"however" lies in between ("not rude" does not hit "rude", "not only
slow but rude" does). Negators and scope breakers are read as written, never stemmed.

Decisions worth knowing (each one is pinned by a test in tests/core/test_text.py):

- Idioms that look negated are negated: "no problem" does not hit the keyword "problem"
  and "not bad" does not hit "bad". An operator who wants the idiom writes it as the
  keyword ("no problem"): a keyword that starts with a negator is matched literally.
- Phrases that only look like negation do not negate: "not only", "not just", "not to
  mention", "no doubt", "no wonder", "without a doubt", "can't believe", and "never"
  followed by "so"/"such"/"this" before the keyword ("never been so insulted").
- Apostrophes are significant inside words ("we'll" is not "well"); curly and straight
  apostrophes are the same. Spellings without apostrophe ("wasnt", "dont") still negate.
- Hyphens and other punctuation inside a clause are spaces: "on-hold" hits "on hold",
  but "e-mail" does not hit "email".
- A possessive or an article between the negator and the keyword ("never got my refund",
  "didn't get a call back", "without any help") means the negator denies a verb, not the
  keyword, so the keyword counts: complaints about missing things are what recovery is
  for. The price is "not a rude person" hitting "rude".
- "No" directly before a noun still negates it: "no refund" does not hit "refund". Write
  "no refund" as a keyword for that complaint.
- Stemming joins a word's family, including its derived words: "helpful" hits "help" and
  "cancellation" hits "cancel". Words of another family stay apart ("crude" is not "rude",
  "slowly" is not "slow" in English). A keyword written in another form ("refunds") matches
  the same words as its stem ("refund").
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

import snowballstemmer
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# VADER looks three words back for negation; the same span keeps "was not very rude"
# negated without letting a "no" at the start of a long sentence swallow its end.
NEGATION_WINDOW = 3

NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "noone",
        "nothing",
        "nowhere",
        "neither",
        "nor",
        "without",
        "hardly",
        "barely",
        "scarcely",
        "rarely",
        "seldom",
        "cannot",
        # Contractions typed without the apostrophe.
        "aint",
        "arent",
        "cant",
        "couldnt",
        "didnt",
        "doesnt",
        "dont",
        "hadnt",
        "hasnt",
        "havent",
        "isnt",
        "mightnt",
        "mustnt",
        "neednt",
        "shant",
        "shouldnt",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
    }
)

# Words that close the scope of a negation inside a clause: what follows is a new claim.
SCOPE_BREAKERS = frozenset({"but", "however", "although", "though", "whereas"})

# A negator followed by one of these continuations is an idiom that affirms.
PSEUDO_NEGATIONS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("not", "only"),
        ("not", "just"),
        ("not", "to", "mention"),
        ("not", "surprisingly"),
        ("no", "doubt"),
        ("no", "wonder"),
        ("no", "question"),
        ("without", "doubt"),
        ("without", "a", "doubt"),
        ("can't", "believe"),
        ("cant", "believe"),
        ("cannot", "believe"),
        ("couldn't", "believe"),
        ("couldnt", "believe"),
    }
)

# "never been so rude", "never had such bad service": "never" intensifies here.
NEVER_INTENSIFIERS = frozenset({"so", "such", "this"})

# After one of these, the keyword is the object of a negated verb, not the thing negated.
NOUN_PHRASE_STARTS = frozenset({"a", "an", "any", "my", "our", "your", "his", "her", "their", "its"})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
_EDGE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_WHITESPACE = re.compile(r"\s+")
# Decimal points and thousands separators ("3.5", "1,000") do not end a clause; a dash
# between spaces ("poor quality - no picture") and an en or em dash do, a hyphen does not.
_CLAUSE_END = re.compile(r"(?<!\d)[.,]|[.,](?!\d)|[!?;:\n\r\u2026\u2013\u2014\u3002\uff01\uff1f]|\s-+\s")

Clause = tuple[str, ...]

DEFAULT_LANGUAGE = "en"

# ISO 639-1 codes of the languages a survey may be written in -> their Snowball stemmer.
_SNOWBALL_NAMES = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


@functools.cache
def stemmer_languages() -> dict[str, str]:
    """The language codes the installed Snowball stemmers cover, each with its stemmer's name."""
    available = set(snowballstemmer.algorithms())
    return {code: name for code, name in _SNOWBALL_NAMES.items() if name in available}


# A Snowball stemmer keeps the word it works on in itself: each thread (the web server's, the
# worker's) gets its own.
_local_stemmers = threading.local()


def _stemmer(language: str) -> Any:
    cached: dict[str, Any] = _local_stemmers.__dict__.setdefault("by_language", {})
    if language not in cached:
        try:
            name = stemmer_languages()[language]
        except KeyError:
            raise ValueError(
                f"no stemmer for language {language!r}; use one of {', '.join(sorted(stemmer_languages()))}"
            ) from None
        cached[language] = snowballstemmer.stemmer(name)
    return cached[language]


# The pure-Python stemmers take some 60 µs a word; customers use the same few thousand words, so a cache
# makes stemming a dictionary look-up for nearly every word of a 100k-row import.
@functools.lru_cache(maxsize=100_000)
def _stem(language: str, word: str) -> str:
    return str(_stemmer(language).stemWord(word))


def stems(words: Clause, language: str = DEFAULT_LANGUAGE) -> Clause:
    """The Snowball stem of every word, in the survey's language (an ISO 639-1 code such as "en")."""
    return tuple(_stem(language, word) for word in words)


def stemmed(text_clauses: Sequence[Clause], language: str = DEFAULT_LANGUAGE) -> tuple[Clause, ...]:
    """Every clause with its words stemmed, position for position (so negation can read the words as written)."""
    return tuple(stems(clause, language) for clause in text_clauses)


def normalise(text: str) -> str:
    """Casefold, strip accents, turn punctuation into spaces (apostrophes inside words stay), collapse spaces."""
    # Compatibility forms first ("𝕊", "ＦＵＬＬ" become plain letters that casefold), then
    # once more because casefolding itself can produce combining marks ("İ" -> "i̇").
    compatible = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    folded = unicodedata.normalize("NFKD", compatible.casefold())
    kept = []
    for char in folded:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        kept.append(char if char == "'" or category[0] in "LN" else " ")
    joined = unicodedata.normalize("NFC", "".join(kept))
    return _WHITESPACE.sub(" ", _EDGE_APOSTROPHE.sub(" ", joined)).strip()


def tokens(text: str) -> Clause:
    """The normalised words of one piece of text."""
    normalised = normalise(text)
    return tuple(normalised.split(" ")) if normalised else ()


@functools.lru_cache(maxsize=2048)
def keyword_tokens(keyword: str) -> Clause:
    """A configured keyword's words; cached, as the same few keywords are looked for in every response."""
    return tokens(keyword)


@functools.lru_cache(maxsize=2048)
def keyword_stems(keyword: str, language: str = DEFAULT_LANGUAGE) -> Clause:
    return stems(keyword_tokens(keyword), language)


def clauses(texts: Sequence[str]) -> tuple[Clause, ...]:
    """Every non-empty clause of every text, as normalised tokens."""
    found: list[Clause] = []
    for text in texts:
        for piece in _CLAUSE_END.split(text):
            words = tokens(piece)
            if words:
                found.append(words)
    return tuple(found)


def is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


def _negates(clause: Clause, negator_at: int, keyword_at: int) -> bool:
    if not is_negator(clause[negator_at]):
        return False
    following = clause[negator_at:]
    if any(following[: len(idiom)] == idiom for idiom in PSEUDO_NEGATIONS):
        return False
    between = clause[negator_at + 1 : keyword_at]
    if NOUN_PHRASE_STARTS.intersection(between):
        return False
    return not (clause[negator_at] == "never" and NEVER_INTENSIFIERS.intersection(between))


def is_negated(clause: Clause, start: int) -> bool:
    """Whether the words starting at ``start`` are negated by what precedes them in the clause."""
    for position in range(start - 1, max(start - NEGATION_WINDOW, 0) - 1, -1):
        if clause[position] in SCOPE_BREAKERS:
            return False
        if _negates(clause, position, start):
            return True
    return False


def _occurrences(clause: Clause, phrase: Clause) -> list[int]:
    width = len(phrase)
    return [start for start in range(len(clause) - width + 1) if clause[start : start + width] == phrase]


def keyword_in_clauses(
    text_clauses: Sequence[Clause],
    keyword: str,
    *,
    language: str = DEFAULT_LANGUAGE,
    stemmed_clauses: Sequence[Clause] | None = None,
) -> bool:
    """Whether ``keyword`` occurs un-negated in any clause, stem by stem.

    ``stemmed_clauses`` (``stemmed(text_clauses, language)``) saves stemming the same text once per keyword.
    """
    phrase = keyword_tokens(keyword)
    if not phrase:
        return False
    wanted = keyword_stems(keyword, language)
    literal = is_negator(phrase[0])
    stemmed_text = stemmed(text_clauses, language) if stemmed_clauses is None else stemmed_clauses
    for clause, clause_stems in zip(text_clauses, stemmed_text, strict=True):
        for start in _occurrences(clause_stems, wanted):
            if literal or not is_negated(clause, start):
                return True
    return False


def find_keywords_in_clauses(
    text_clauses: Sequence[Clause],
    keywords: Sequence[str],
    *,
    language: str = DEFAULT_LANGUAGE,
    stemmed_clauses: Sequence[Clause] | None = None,
) -> list[str]:
    """The keywords (as given, first spelling of each, in the given order) that occur un-negated."""
    hits: list[str] = []
    if not text_clauses:
        return hits
    stemmed_text = stemmed(text_clauses, language) if stemmed_clauses is None else stemmed_clauses
    seen: set[Clause] = set()
    for keyword in keywords:
        phrase = keyword_stems(keyword, language)
        if phrase in seen:
            continue
        seen.add(phrase)
        if keyword_in_clauses(text_clauses, keyword, language=language, stemmed_clauses=stemmed_text):
            hits.append(keyword)
    return hits


def find_keywords(texts: Sequence[str], keywords: Sequence[str], language: str = DEFAULT_LANGUAGE) -> list[str]:
    """The keywords that occur, word form by word form and not negated, in any of the texts."""
    return find_keywords_in_clauses(clauses(texts), keywords, language=language)


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Built once, on first use: building the analyzer reads VADER's lexicon from disk.
    return SentimentIntensityAnalyzer()


def has_text(texts: Sequence[str]) -> bool:
    return any(text.strip() for text in texts)


def sentiment(texts: Sequence[str]) -> float:
    """VADER compound score (-1..1) of all texts read together; 0.0 when there is no text."""
    joined = "\n".join(text.strip() for text in texts if text.strip())
    if not joined:
        return 0.0
    return float(_analyzer().polarity_scores(joined)["compound"])
