"""The list envelope every list endpoint returns: {"items": [...], "count": N, "next": url | null}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest

from closeloop.api.errors import invalid_field

PAGE_SIZE = 50

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
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of `queryset` (already ordered) as the list envelope; `next` is an absolute URL or None."""
    page = requested_page(request)
    count = queryset.count()
    start = (page - 1) * page_size
    rows = list(queryset[start : start + page_size]) if start < count else []
    next_url = None
    if start + page_size < count:
        query = request.GET.copy()
        query["page"] = str(page + 1)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {"items": [serialize(row) for row in rows], "count": count, "next": next_url}
