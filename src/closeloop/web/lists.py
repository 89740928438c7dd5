"""Paging and sorting for the UI's long lists.

Pages are offset-based but never count the whole selection: one row more than a page is read to know
whether a "next" page exists, so a list over millions of responses costs the same as one over fifty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from closeloop.feedback.queries import local_day_bounds

PAGE_SIZE = 50
# Deep offsets get slow on any database; nobody reads page 400 of a list, they filter instead.
MAX_PAGE = 200


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int
    has_next: bool
    query: QueryDict

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def link(self, number: int) -> str:
        query = self.query.copy()
        query["page"] = str(number)
        return "?" + query.urlencode()

    @property
    def next_link(self) -> str:
        return self.link(self.number + 1)

    @property
    def previous_link(self) -> str:
        return self.link(self.number - 1)


def page_number(request: HttpRequest) -> int:
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def page_of(request: HttpRequest, queryset: QuerySet, size: int = PAGE_SIZE) -> Page:
    number = page_number(request)
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return Page(rows=rows[:size], number=number, has_next=len(rows) > size and number < MAX_PAGE, query=request.GET)


def sort_order(value: str, orders: Mapping[str, Sequence[str]], default: str) -> tuple[str, list[str]]:
    """The chosen sort key (falling back to `default`) and its ORDER BY fields; `-key` sorts descending."""
    key = value if value.lstrip("-") in orders else default
    fields = list(orders[key.lstrip("-")])
    if key.startswith("-"):
        fields = [field[1:] if field.startswith("-") else f"-{field}" for field in fields]
    return key, fields


def in_date_range(queryset: QuerySet, field: str, date_from: date | None, date_to: date | None, zone: str) -> QuerySet:
    """Rows whose `field` falls on the days from `date_from` to `date_to` (both included) in time zone `zone`."""
    if date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": local_day_bounds(date_from, zone)[0]})
    if date_to is not None:
        queryset = queryset.filter(**{f"{field}__lt": local_day_bounds(date_to, zone)[1]})
    return queryset
