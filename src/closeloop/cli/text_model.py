"""The text model at start-up: say which judge is active and why, and warm it up where it will be needed.

Warming up (loading the model and embedding its prototype sentences, several seconds) runs in a thread of
the process that will judge, so the first customer's comment does not wait for it. It never runs in a
process that forks afterwards: the model's engine does not survive a fork once it has run (a child then
waits forever on its first sentence), so `serve` warms up each gunicorn worker after it is forked.
"""

from __future__ import annotations

import logging
import threading

from closeloop.alerts.rulebook import configured_rules
from closeloop.alerts.text_judging import asks_for_text, organization_examples, status_line
from closeloop.org.directory import current_organization
from closeloop.textmodel import Examples, judge_for, judge_status

log = logging.getLogger("closeloop.textmodel")


def announce_text_model() -> str:
    """Log (and return) which judge is active and why; a fallback is a warning: it hears far less."""
    organization = current_organization()
    line = status_line(organization)
    fallback = judge_status(organization_examples(organization)).kind == "fallback"
    log.log(logging.WARNING if fallback else logging.INFO, line)
    return line


def examples_to_warm() -> Examples | None:
    """The organisation's examples when a configured rule asks the text model, else None (nothing to warm)."""
    if not asks_for_text(configured_rules()):
        return None
    return organization_examples(current_organization())


def _warm(examples: Examples) -> None:
    judge = judge_for(examples)
    warm_up = getattr(judge, "warm_up", None)
    try:
        if warm_up is not None:
            warm_up()
    except (RuntimeError, OSError, ValueError):
        # The first comment will try again (and fall back for its batch if the model still fails).
        log.exception("warming up the text model failed")
        return
    log.info("text model ready: %s %s", judge.model, judge.version)


def warm_up_in_background(examples: Examples | None) -> threading.Thread | None:
    """Start warming the judge for `examples` in a daemon thread of this process (None: nothing to do)."""
    if examples is None:
        return None
    thread = threading.Thread(target=_warm, args=(examples,), name="closeloop-text-model", daemon=True)
    thread.start()
    return thread
