"""Template helpers: icons from the sprite, case standing badges, sort links and durations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django import template
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html

from closeloop.alerts.models import Alert
from closeloop.cases.models import Case
from closeloop.core.metrics import ContactTimes
from closeloop.feedback.catalog import Catalog
from closeloop.feedback.models import Response
from closeloop.notify.channels import STORED_IN_OUTBOX
from closeloop.notify.models import Delivery
from closeloop.org.directory import current_organization
from closeloop.web.scores import score_of
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
    for cursor in ("page", "after", "before"):
        query.pop(cursor, None)
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


def _catalog(context: template.Context) -> Catalog:
    """The surveys' catalog, read once per request however many scores a page shows."""
    request = context.get("request")
    catalog = getattr(request, "_closeloop_catalog", None)
    if catalog is None:
        catalog = Catalog.load()
        if request is not None:
            request._closeloop_catalog = catalog
    return catalog


@register.simple_tag(takes_context=True)
def score_badge(context: template.Context, response: Response, alerts: Iterable[Alert] | None = None) -> str:
    """The overall score coloured by how good it is, and why a rule flagged it when the score does not say so."""
    score = score_of(response, response.alerts.all() if alerts is None else alerts, _catalog(context))
    if score is None:
        return "–"
    badge = format_html(
        '<span class="score score-{}">{}<span class="visually-hidden">, {}</span></span>',
        score.band or "unknown",
        score.text,
        score.words,
    )
    if response.needs_recovery and score.flagged_by:
        reason = ", ".join(score.flagged_by)
        badge += format_html(
            ' <span class="tag tag-bad flagged" title="A rule found a problem the score does not show">'
            '<svg class="icon" aria-hidden="true" focusable="false"><use href="{}"></use></svg>Flagged: {}</span>',
            f"{static('web/icons.svg')}#i-flag",
            reason,
        )
    return badge


DELIVERY_STATES = {
    "sent": ("sent", "Sent", "i-check"),
    "failed": ("failed", "Failed", "i-cross"),
    "skipped": ("skipped", "Skipped", "i-skip"),
    "pending": ("pending", "Waiting", "i-clock"),
    "sending": ("sending", "Sending", "i-clock"),
}


@register.simple_tag
def delivery_state(delivery: Delivery) -> str:
    """A delivery's state in words with its icon; a message kept in the outbox (no server) is not "sent"."""
    if delivery.status == Delivery.Status.SENT and delivery.provider_id == STORED_IN_OUTBOX:
        key, label, icon_name = "kept", "Kept here, not sent", "i-mail"
    else:
        key, label, icon_name = DELIVERY_STATES.get(delivery.status, (delivery.status, delivery.status, "i-circle"))
    return format_html(
        '<span class="delivery-status delivery-status-{}"><svg class="icon" aria-hidden="true" focusable="false">'
        '<use href="{}"></use></svg>{}</span>',
        key,
        f"{static('web/icons.svg')}#{icon_name}",
        label,
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
def age(moment: datetime | None) -> str:
    """How long ago `moment` was, shortly: "40 min", "5 h", "3 d"."""
    if moment is None:
        return ""
    seconds = max((timezone.now() - moment).total_seconds(), 0)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    hours = seconds / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


@register.filter
def first_words(text: str | None, length: int = 90) -> str:
    """The start of the customer's words, cut at a word and marked when cut: enough to tell what is wrong."""
    words = " ".join((text or "").split())
    if len(words) <= length:
        return words
    cut = words[:length].rsplit(" ", 1)[0] or words[:length]
    return cut.rstrip(",.;:") + "…"


@register.filter
def within(contact: ContactTimes | None, hours: int) -> str:
    """The percentage of cases contacted within `hours`, "–" without any to judge."""
    return percent(contact.within_hours.get(hours) if contact is not None else None)


@register.filter
def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


@register.filter
def number(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


@register.filter
def customer_name(response: Response | None) -> str:
    """The name the response gave its customer, only with the consent it has: no page shows it otherwise."""
    if response is None or response.customer_id is None or not response.contact_ok:
        return ""
    return response.customer_name


@register.simple_tag
def org_setting(name: str) -> str:
    """`name` or `time_zone` of the organisation, for pages rendered outside closeloop's own views."""
    return getattr(current_organization(), name)
