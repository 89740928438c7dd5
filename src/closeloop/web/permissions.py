"""Who is looking: the person behind a login and what their units let them see.

The rule is the API's (closeloop.feedback.queries.visible_units): a person sees the units where they
hold a role, with everything below them; an `admin` role shows everything. Every case that names the
person (owner, manager, member, or someone an escalation reached) is theirs to see too, with its response,
also without a role in its unit (closeloop.cases.queries.names). A Django superuser sees everything too.
A login without a person (an operator account) and not a superuser sees nothing, so a stray account can
never read customer data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from closeloop.alerts.models import Alert
from closeloop.api.auth import find_active_token, note_token_use, token_units
from closeloop.cases.models import Case
from closeloop.cases.queries import cases_seen_by, mine, responses_seen_by
from closeloop.feedback.models import Response
from closeloop.feedback.queries import visible_units
from closeloop.org.models import Person, Unit


def person_for(request: HttpRequest) -> Person | None:
    """The active configured person the logged-in user is (username = person id), or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if hasattr(request, "_closeloop_person"):
        cached: Person | None = request._closeloop_person
        return cached
    person = Person.objects.filter(user_id=user.pk, active=True).first()
    request._closeloop_person = person  # type: ignore[attr-defined]
    return person


@dataclass(frozen=True)
class Viewer:
    """The logged-in person and the units they may see; `units` None means everything."""

    person: Person | None
    units: QuerySet[Unit] | None
    is_admin: bool

    @property
    def name(self) -> str:
        return self.person.name if self.person else ""

    def responses(self, queryset: QuerySet[Response]) -> QuerySet[Response]:
        if self.units is None:
            return queryset
        if self.person is None:
            return queryset.filter(unit__in=self.units)
        return responses_seen_by(queryset, self.person, self.units)

    def alerts(self, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        return queryset if self.units is None else queryset.filter(unit__in=self.units)

    def cases(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.units is None:
            return queryset
        if self.person is None:
            return queryset.filter(unit__in=self.units)
        return cases_seen_by(queryset, self.person, self.units)

    def unit_choices(self) -> QuerySet[Unit]:
        return Unit.objects.all() if self.units is None else self.units

    def sees_unit(self, unit: Unit) -> bool:
        return self.units is None or self.units.filter(pk=unit.pk).exists()

    def team_cases(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        """Cases the person owns, manages or works on, and those escalated to them."""
        if self.person is None:
            return queryset.none()
        return mine(queryset, self.person)


def viewer_for(request: HttpRequest) -> Viewer:
    cached = getattr(request, "_closeloop_viewer", None)
    if cached is not None:
        return cached
    person = person_for(request)
    if request.user.is_superuser:
        viewer = Viewer(person=person, units=None, is_admin=True)
    elif person is None:
        viewer = Viewer(person=None, units=Unit.objects.none(), is_admin=False)
    else:
        units = visible_units(person)
        viewer = Viewer(person=person, units=units, is_admin=units is None)
    request._closeloop_viewer = viewer  # type: ignore[attr-defined]
    return viewer


@dataclass(frozen=True)
class Reader:
    """Who reads a page that also takes an API token (the PDF report, a recording): the units they may
    see (None: everything) and their name."""

    units: QuerySet[Unit] | None
    name: str
    person: Person | None = None
    # Who, for the audit log: the person's name, the account's, or the token's.
    actor_name: str = ""


def reader_for(request: HttpRequest) -> Reader | HttpResponse:
    """A logged-in viewer, or a bearer token with the `read` scope; else the answer to send instead:
    a JSON 401/403 for a bad token, the login page for a browser."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        token = find_active_token(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return JsonResponse({"detail": "Missing or unknown token."}, status=401)
        note_token_use(token)
        if "read" not in token.scopes:
            return JsonResponse({"detail": "This token lacks the `read` scope needed here."}, status=403)
        name = token.person.name if token.person else ""
        return Reader(token_units(token), name, token.person, name or f"token {token.name}")
    if request.user.is_authenticated:
        viewer = viewer_for(request)
        return Reader(viewer.units, viewer.name, viewer.person, viewer.name or request.user.get_username())
    return redirect_to_login(request.get_full_path())


def web_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; the view gets the Viewer as `request.viewer`."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.viewer = viewer_for(request)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def admin_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required and an admin (superuser or `admin` role): others get 403."""

    @web_view
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.viewer.is_admin:  # type: ignore[attr-defined]
            raise PermissionDenied("Only administrators can see this page.")
        return view(request, *args, **kwargs)

    return wrapped
