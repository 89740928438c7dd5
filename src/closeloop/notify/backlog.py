"""What the outbox still has to send: how many, how old, how late (the outbox page, /readyz, /metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q

from closeloop.notify.models import Delivery

UNSENT = (Delivery.Status.PENDING, Delivery.Status.SENDING)


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest_created_at: datetime | None
    # The earliest time one of them was due to go out: the worker's lag is measured from it.
    oldest_due_at: datetime | None
    failing: int

    def oldest_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_created_at is None else max(now - self.oldest_created_at, timedelta(0))

    def lag(self, now: datetime) -> timedelta:
        """How long the oldest due delivery has been waiting; zero when nothing is due."""
        if self.oldest_due_at is None or self.oldest_due_at > now:
            return timedelta(0)
        return now - self.oldest_due_at


def backlog(now: datetime) -> Backlog:
    """One indexed query over the unsent deliveries."""
    row = Delivery.objects.filter(status__in=UNSENT).aggregate(
        count=Count("id"),
        oldest_created_at=Min("created_at"),
        oldest_due_at=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now)),
        failing=Count("id", filter=Q(failing_since__isnull=False)),
    )
    return Backlog(
        count=row["count"],
        oldest_created_at=row["oldest_created_at"],
        oldest_due_at=row["oldest_due_at"],
        failing=row["failing"],
    )
