"""Keyset pagination: a page starts after (or ends before) the last row seen, not at an offset.

The cost of a page is the same on page 1 and page 900, and a case closed or opened while someone reads
does not shift the rows under them. The cursor is the sort values of the row at the page's edge, in the
address (`?after=` / `?before=`), so a page can be bookmarked like the rest of the view.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.http import QueryDict


def _encode(values: Sequence[Any]) -> str:
    plain = [{"t": value.isoformat()} if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any] | None:
    """The values in `cursor`, or None when it is not one of ours (a hand-edited address starts over)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) != size:
        return None
    values: list[Any] = []
    for item in raw:
        if isinstance(item, dict):
            try:
                moment = datetime.fromisoformat(str(item.get("t")))
            except ValueError:
                return None
            if moment.tzinfo is None:
                return None
            values.append(moment)
        elif isinstance(item, bool) or not isinstance(item, int | float | str):
            return None
        else:
            values.append(item)
    return values


def _beyond(order: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows that come after `values` in `order` (ORDER BY fields, `-` descending): the row-value comparison
    (a, b, c) > (x, y, z) written out, since the fields' directions differ."""
    condition = Q(pk__in=[])
    equal = Q()
    for field, value in zip(order, values, strict=True):
        name = field.lstrip("-")
        step = Q(**{f"{name}__lt" if field.startswith("-") else f"{name}__gt": value})
        condition |= equal & step
        equal &= Q(**{name: value})
    return condition


def _reverse(order: Sequence[str]) -> list[str]:
    return [field[1:] if field.startswith("-") else f"-{field}" for field in order]


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    count: int
    next_cursor: str | None
    previous_cursor: str | None
    query: QueryDict

    def _link(self, name: str, cursor: str | None) -> str:
        query = self.query.copy()
        for key in ("after", "before", "page"):
            query.pop(key, None)
        if cursor is not None:
            query[name] = cursor
        encoded = query.urlencode()
        return "?" + encoded if encoded else "?"

    @property
    def next_link(self) -> str:
        return self._link("after", self.next_cursor)

    @property
    def previous_link(self) -> str:
        return self._link("before", self.previous_cursor)

    @property
    def first_link(self) -> str:
        return self._link("after", None)


def keyset_page(queryset: QuerySet[Any], order: Sequence[str], query: QueryDict, size: int) -> KeysetPage:
    """The page of `queryset` in `order` (whose last field must be unique, e.g. "id") that `query`'s
    `after` or `before` cursor asks for, with the total count of the whole selection."""
    if not order or order[-1].lstrip("-") not in ("id", "pk"):
        raise ValueError("the order must end with the primary key, so every row has one place")
    names = [field.lstrip("-") for field in order]
    count = queryset.count()
    after = _decode(query.get("after", ""), len(order)) if query.get("after") else None
    before = _decode(query.get("before", ""), len(order)) if query.get("before") and after is None else None
    if before is not None:
        reversed_order = _reverse(order)
        rows = list(queryset.filter(_beyond(reversed_order, before)).order_by(*reversed_order)[: size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        has_previous, has_next = more_before, True
    else:
        selection = queryset if after is None else queryset.filter(_beyond(order, after))
        rows = list(selection.order_by(*order)[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = after is not None
    if not rows:
        return KeysetPage(rows, count, None, None, query)

    def cursor_of(row: Model) -> str:
        return _encode([getattr(row, name) for name in names])

    return KeysetPage(
        rows=rows,
        count=count,
        next_cursor=cursor_of(rows[-1]) if has_next else None,
        previous_cursor=cursor_of(rows[0]) if has_previous else None,
        query=query,
    )
