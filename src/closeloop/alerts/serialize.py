"""An alert's own fields as JSON, shared by the API and the webhook payload."""

from __future__ import annotations

from typing import Any

from closeloop.alerts.models import Alert


def alert_fields(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "rule": alert.rule_key,
        "kind": alert.kind,
        "severity": alert.severity,
        "category": alert.category,
        "unit": alert.unit.code if alert.unit else None,
        "repeat": alert.repeat,
        "repeat_of": alert.repeat_of_id,
        "created_at": alert.created_at.isoformat(),
    }
