"""Fixing a response's unit and/or segment: a quarantined response that becomes valid is evaluated as if it
had just arrived (alerts, deliveries, case); a valid one that moves takes its alerts and case along."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from closeloop.actions.ingest import evaluate_stored
from closeloop.alerts.detection import move_alerts_with_response
from closeloop.cases.services import do_move_case_to_unit
from closeloop.config.snapshot import current
from closeloop.feedback.models import Response
from closeloop.feedback.store import check_placement_fix, fix_placement
from closeloop.org.models import Person


def fix_response(
    response: Response, changes: Mapping[str, Any], *, now: datetime, actor: Person | None = None
) -> Response:
    """Set the unit and/or segment of `response`; raises RejectedInput naming each bad field."""
    snapshot = current()
    fix = check_placement_fix(changes, snapshot.catalog)
    with transaction.atomic():
        fixed = fix_placement(response, fix, catalog=snapshot.catalog, now=now)
        stored = fixed.response
        if fixed.was_valid:
            move_alerts_with_response(stored)
            do_move_case_to_unit(stored, fixed.previous_unit, actor=actor, now=now)
        elif fixed.became_valid and stored.superseded_by_id is None:
            evaluate_stored([stored], snapshot=snapshot, now=now)
    return stored
