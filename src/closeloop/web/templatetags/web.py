"""Template helpers: icons from the sprite, case standing badges, sort links and durations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import template
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html

from closeloop.cases.models import Case
from closeloop.feedback.models import Customer
from closeloop.org.directory import current_organization
from closeloop.web.status import standing

register = template.Library()


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An icon from the sprite; decorative unless `label` is given."""
    href = f"{static('web/icons.svg')}#{name}"
    if label:
        return format_html('<svg class="icon" role="img" aria-label="{}"><use href="{}"></use></svg>', label, href)
    return format_html('<svg class="icon" aria-hidden="true" focusable="false"><use href="{}"></use></svg>', href)


@register.simple_tag
def case_badge(case: Case, now: datetime | None = None) -> str:
    state = standing(case, now or timezone.now())
    href = f"{static('web/icons.svg')}#{state.icon}"
    return format_html(
        '<span class="badge badge-{}"><svg class="icon" aria-hidden="true" focusable="false"><use href="{}"></use>'
        "</svg>{}</span>",
        state.key,
        href,
        state.label,
    )


@register.simple_tag
def case_standing(case: Case, now: datetime | None = None) -> str:
    return standing(case, now or timezone.now()).key


@register.simple_tag(takes_context=True)
def sort_link(context: template.Context, key: str, label: str) -> str:
    """A column header that sorts by `key`, flipping direction when it already does."""
    request: HttpRequest = context["request"]
    current = str(context.get("sort") or "")
    query = request.GET.copy()
    query.pop("page", None)
    query["sort"] = f"-{key}" if current == key else key
    # Unsorted sortable columns show a quiet two-way arrow, so they read as clickable.
    arrow, spoken = "↕", ""
    if current.lstrip("-") == key:
        arrow, spoken = ("▲", "sorted ascending") if not current.startswith("-") else ("▼", "sorted descending")
    return format_html(
        '<a href="?{}">{} <span aria-hidden="true">{}</span><span class="visually-hidden">{}</span></a>',
        query.urlencode(),
        label,
        arrow,
        spoken,
    )


@register.filter
def hours_until(moment: datetime | None) -> str:
    """ "in 5 h" / "3 h ago" / "2 d ago": how far a due time is from now, in words a lead scans quickly."""
    if moment is None:
        return ""
    seconds = (moment - timezone.now()).total_seconds()
    hours = abs(seconds) / 3600
    amount = f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


@register.filter
def lookup(mapping: Mapping[Any, Any] | None, key: Any) -> Any:
    """`mapping[key]` in a template (`{{ words|lookup:case.pk }}`), empty when it is not there."""
    return (mapping or {}).get(key, "")


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


@register.filter
def number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


@register.filter
def customer_name(customer: Customer | None) -> str:
    """The customer's name, only when they agreed to be contacted: no page shows it otherwise."""
    if customer is None or not customer.contact_ok:
        return ""
    return customer.name


@register.simple_tag
def org_setting(name: str) -> str:
    """`name` or `time_zone` of the organisation, for pages rendered outside closeloop's own views."""
    return getattr(current_organization(), name)
