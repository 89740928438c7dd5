"""Recording what customers did after they complained (purchases, renewals, cancellations).

One checker serves the CSV command and the API: a row names the customer by the id the survey tool gave
(`customer_id`), a `date` (YYYY-MM-DD), a `kind` and an optional `amount`. Storing is idempotent: the same
customer, date, kind and amount again is a replay, not a second row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from closeloop.feedback.models import Customer, Response
from closeloop.feedback.store import FieldError
from closeloop.loop.models import Activity
from closeloop.org.models import Unit

FIELDS = ("customer_id", "date", "kind", "amount")
MAX_AMOUNT = Decimal("999999999999.99")


# Inside ActivityRow the field `date` hides the type of the same name.
Day = date


@dataclass(frozen=True)
class ActivityRow:
    customer: Customer
    date: date
    kind: str
    amount: Decimal | None

    @property
    def key(self) -> tuple[int, Day, str, Decimal | None]:
        return (self.customer.pk, self.date, self.kind, self.amount)


@dataclass(frozen=True)
class StoredCounts:
    created: int
    replayed: int


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _date(value: Any) -> date | str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    return "must be a date as YYYY-MM-DD"


def _amount(value: Any) -> Decimal | str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "must be a number"
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return "must be a number"
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        return "must be a number below one trillion"
    if amount != amount.quantize(Decimal("0.01")):
        return "must have at most 2 decimals"
    return amount.quantize(Decimal("0.01"))


def check_rows(items: Sequence[Any], *, units: QuerySet[Unit] | None = None) -> list[ActivityRow | list[FieldError]]:
    """Check every item; one outcome per item, in order: the row to store or the errors naming its fields.

    `units`: the sender may tell only about customers who answered in these units (a token limited to
    units); any other customer is unknown to it, as one that does not exist, so an id cannot be probed."""
    ids = {_text(item.get("customer_id")) for item in items if isinstance(item, Mapping)}
    known = Customer.objects.filter(external_id__in=ids - {""})
    if units is not None:
        known = known.filter(Exists(Response.objects.filter(customer=OuterRef("pk"), unit__in=units)))
    customers = {c.external_id: c for c in known}
    outcomes: list[ActivityRow | list[FieldError]] = []
    for item in items:
        if not isinstance(item, Mapping):
            outcomes.append([FieldError((), "expected an object")])
            continue
        errors = [FieldError((key,), "unknown field") for key in item if key not in FIELDS]
        customer_id = _text(item.get("customer_id"))
        customer = customers.get(customer_id)
        if not customer_id:
            errors.append(FieldError(("customer_id",), "is required"))
        elif customer is None:
            errors.append(FieldError(("customer_id",), f"unknown customer {customer_id!r}"))
        day = _date(item.get("date"))
        if isinstance(day, str):
            errors.append(FieldError(("date",), day))
        kind = _text(item.get("kind")).lower()
        if kind not in Activity.Kind.values:
            errors.append(FieldError(("kind",), f"must be one of {', '.join(Activity.Kind.values)}"))
        amount = _amount(item.get("amount"))
        if isinstance(amount, str):
            errors.append(FieldError(("amount",), amount))
        if errors:
            outcomes.append(errors)
        else:
            outcomes.append(ActivityRow(customer, day, kind, amount))  # type: ignore[arg-type]
    return outcomes


def store_rows(rows: Sequence[ActivityRow], *, now: datetime) -> StoredCounts:
    """Insert the rows not stored before, in one transaction; returns how many were new and how many replays."""
    unique = {row.key: row for row in rows}
    if not unique:
        return StoredCounts(0, len(rows))
    with transaction.atomic():
        stored = set(
            Activity.objects.filter(
                customer_id__in={row.customer.pk for row in unique.values()},
                date__in={row.date for row in unique.values()},
            ).values_list("customer_id", "date", "kind", "amount")
        )
        new = [row for key, row in unique.items() if key not in stored]
        # ignore_conflicts: a concurrent import of the same rows loses quietly instead of failing the batch.
        Activity.objects.bulk_create(
            [Activity(customer=r.customer, date=r.date, kind=r.kind, amount=r.amount, created_at=now) for r in new],
            ignore_conflicts=True,
        )
    return StoredCounts(len(new), len(rows) - len(new))
