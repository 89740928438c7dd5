"""Counts over the outbox for /metrics: deliveries by channel and status, and how fast alerts went out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

from closeloop.notify.models import Delivery

# Seconds from an alert's planning to its provider accepting it: real-time alerts land in the first
# buckets, retries after an outage in the last ones.
LATENCY_BUCKETS: tuple[float, ...] = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)


def deliveries_by_channel_and_status() -> dict[tuple[str, str], int]:
    rows = Delivery.objects.order_by().values_list("channel", "status").annotate(count=Count("id"))
    return {(channel, status): count for channel, status, count in rows}


@dataclass(frozen=True)
class LatencyHistogram:
    channel: str
    # (upper bound in seconds, how many took at most that long), cumulative as Prometheus wants.
    buckets: list[tuple[float, int]]
    count: int
    total_seconds: float


def alert_latency(buckets: Sequence[float] = LATENCY_BUCKETS) -> list[LatencyHistogram]:
    """Per channel, the sent alert deliveries by time from creation to acceptance: one grouped query."""
    latency = ExpressionWrapper(F("sent_at") - F("created_at"), output_field=DurationField())
    counts = {
        f"le_{i}": Count("id", filter=Q(latency__lte=timedelta(seconds=bound))) for i, bound in enumerate(buckets)
    }
    rows = (
        Delivery.objects.filter(topic="alert", status=Delivery.Status.SENT, sent_at__isnull=False)
        .annotate(latency=latency)
        .order_by()
        .values("channel")
        .annotate(total=Count("id"), seconds=Sum("latency"), **counts)
    )
    histograms = []
    for grouped in rows:
        row: dict[str, Any] = dict(grouped)
        total: timedelta | None = row["seconds"]
        histograms.append(
            LatencyHistogram(
                channel=row["channel"],
                buckets=[(bound, row[f"le_{i}"]) for i, bound in enumerate(buckets)],
                count=row["total"],
                total_seconds=total.total_seconds() if total is not None else 0.0,
            )
        )
    return sorted(histograms, key=lambda h: h.channel)
