"""What every page needs: the viewer in the template, the organisation's clock and safe redirects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from closeloop.audit.log import record_view
from closeloop.org.directory import current_organization
from closeloop.web.permissions import Viewer


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    organization = current_organization()
    base = {"viewer": viewer, "organization": organization, "now": timezone.now()}
    rendered = render(request, template, base | context, status=status)
    if context.get("media_sources"):
        # django-csp adds these to the site-wide policy for this page only.
        rendered._csp_update = {"media-src": list(context["media_sources"])}  # type: ignore[attr-defined]
    return rendered


def org_zone() -> ZoneInfo:
    return ZoneInfo(current_organization().time_zone)


def org_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(org_zone()).date()


def back_to(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to the form's `next` when it points into this site, else to `fallback`."""
    return HttpResponseRedirect(next_path(request, fallback))


def next_path(request: HttpRequest, fallback: str) -> str:
    """The posted `next` when it points into this site, else `fallback`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def return_path(request: HttpRequest, fallback: str) -> str:
    """Where a form on this page should come back to once it is saved: the page it is on.

    A form sent back with an error is shown at its action's address, which only takes POST; coming back
    there after the corrected form is saved would be a 405. So that page passes on the `next` it was
    given instead.
    """
    if request.method == "POST":
        return next_path(request, fallback)
    return request.get_full_path()


def log_customer_view(request: HttpRequest, target: str, surface: str = "web") -> None:
    """Record in the audit log that the signed-in person was shown a customer's data (`target`)."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    user_name = request.user.get_username() if request.user.is_authenticated else ""
    record_view(target, now=timezone.now(), actor=viewer.person, actor_name=viewer.name or user_name, surface=surface)
