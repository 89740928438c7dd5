"""Message bodies are personal data too: they quote customers and carry their contact details. They are emptied
when a customer is erased, and after a retention period for everyone (`CLOSELOOP_MESSAGE_RETENTION`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from closeloop.notify.models import Delivery

ERASED = "erased"
# Bodies of messages that will never be sent again: the outbox keeps who got what and when, not what it said.
FINISHED = (Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.SKIPPED)
PURGE_BATCH = 1000


def erase_messages(*, alert_ids: Collection[int], refs: Collection[str], addresses: Collection[str]) -> int:
    """Empty the messages about these alerts or cases (`ref`) and those sent to these addresses; returns how many.

    A message still waiting to be sent is emptied too: it would only quote what was just erased."""
    about = Q(alert_id__in=list(alert_ids)) | Q(ref__in=list(refs)) | Q(address__in=list(addresses))
    changed = Delivery.objects.filter(about).update(subject=ERASED, text=ERASED, html="", payload={})
    Delivery.objects.filter(address__in=list(addresses)).update(address="")
    return changed


def retention() -> timedelta:
    return settings.CLOSELOOP_MESSAGE_RETENTION


def purge_old_bodies(now: datetime) -> int:
    """The `retention` worker step: empty the bodies of finished messages older than the retention period;
    returns how many were emptied (a batch at a time, so one round never holds the database for long)."""
    cutoff = now - retention()
    old = Delivery.objects.filter(status__in=FINISHED, created_at__lt=cutoff).exclude(text="", html="", payload={})
    ids = list(old.values_list("id", flat=True)[:PURGE_BATCH])
    if not ids:
        return 0
    return Delivery.objects.filter(id__in=ids).update(text="", html="", payload={})
