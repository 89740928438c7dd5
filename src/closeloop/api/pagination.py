"""The list envelope every list endpoint returns: {"items": [...], "count": N, "next": url | null,
"count_estimated": bool}.

Counting a list exactly reads every row it holds; past EXACT_COUNT_LIMIT rows, on PostgreSQL, `count` is the
planner's estimate instead, flagged with `"count_estimated": true` (SQLite has no estimate, so it counts).
`next` never depends on the count: the page is read one row long to know whether another follows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from closeloop.api.errors import invalid_field

PAGE_SIZE = 50
# Up to this many rows a list is counted exactly (a bounded count, which stops reading at the limit).
EXACT_COUNT_LIMIT = 10_000
LARGEST_OFFSET = 2**63 - 1

M = TypeVar("M", bound=Model)


def requested_page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    try:
        page = int(raw)
    except ValueError:
        raise invalid_field(("page",), f"must be a whole number from 1 up, not {raw!r}") from None
    if page < 1:
        raise invalid_field(("page",), f"must be a whole number from 1 up, not {raw!r}")
    return page


def paginate(
    request: HttpRequest,
    queryset: QuerySet[M],
    serialize: Callable[[M], dict[str, Any]],
    *,
    page_size: int | None = None,
) -> dict[str, Any]:
    """One page of `queryset` (already ordered) as the list envelope; `next` is an absolute URL or None."""
    page_size = PAGE_SIZE if page_size is None else page_size
    page = requested_page(request)
    start = (page - 1) * page_size
    # A page past what a database offset can address (64 bits) holds nothing; asking would be an error.
    rows = list(queryset[start : start + page_size + 1]) if start + page_size < LARGEST_OFFSET else []
    more = len(rows) > page_size
    rows = rows[:page_size]
    count, estimated = list_count(queryset)
    next_url = None
    if more:
        query = request.GET.copy()
        query["page"] = str(page + 1)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"items": [serialize(row) for row in rows], "count": count, "next": next_url, "count_estimated": estimated}


def list_count(queryset: QuerySet[M], limit: int | None = None) -> tuple[int, bool]:
    """(count, estimated): exact up to `limit` rows (EXACT_COUNT_LIMIT); beyond, on PostgreSQL, the planner's
    row estimate (never below the rows already counted)."""
    limit = EXACT_COUNT_LIMIT if limit is None else limit
    if connections[queryset.db].vendor != "postgresql":
        return queryset.count(), False
    bounded = queryset.order_by()[: limit + 1].count()
    if bounded <= limit:
        return bounded, False
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    document = json.loads(plan) if isinstance(plan, str) else plan
    return max(int(document[0]["Plan"]["Plan Rows"]), bounded), True
