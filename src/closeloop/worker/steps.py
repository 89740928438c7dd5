"""The worker's steps, in the order each round runs them.

Deliveries come first so that a round never holds back an alert behind a slow digest; the
escalations, digests, summaries and follow-ups that a round plans are sent by the next round's first step.
Each step is a function of `now` that does the work due at that instant and returns how much
it did; it must be safe to run on several workers at once (each claims its rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from closeloop.cases.escalation import escalate_due
from closeloop.loop.services import send_due_follow_ups
from closeloop.loop.spikes import check_spikes
from closeloop.notify.dispatch import deliver_due
from closeloop.notify.privacy import purge_old_bodies
from closeloop.reports.digests import run_due_digests
from closeloop.reports.summaries import run_due_summaries
from closeloop.reports.tallies import refresh_tallies


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[datetime], int]


STEPS: tuple[Step, ...] = (
    Step("deliveries", deliver_due),
    Step("escalations", escalate_due),
    Step("digests", run_due_digests),
    Step("summaries", run_due_summaries),
    Step("follow-ups", send_due_follow_ups),
    Step("spikes", check_spikes),
    Step("retention", purge_old_bodies),
    # Last: the report's stored tallies can wait for everything that tells people something.
    Step("tallies", refresh_tallies),
)
