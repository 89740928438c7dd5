"""Bearer-token authentication with scopes, and what a token may see and write.

Declare what an endpoint needs with `auth=TokenAuth("read")`; inside the view
`request.auth` is the caller's `ApiToken` (its `.person` is None for a service token).

A token sees what its person sees (feedback.queries.visible_units, and every case that names the person);
a token limited to units (`token create --units`) sees nothing outside them either, and submits responses
for them only. A token without units and without a person sees everything, as before units existed.
"""

from __future__ import annotations

from datetime import timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from closeloop.alerts.models import Alert
from closeloop.api.models import SCOPES, ApiToken, hash_token
from closeloop.audit.log import record_view
from closeloop.cases.models import Case
from closeloop.cases.queries import responses_visible_to, restrict_to_visible
from closeloop.feedback.models import Response
from closeloop.feedback.queries import visible_units
from closeloop.feedback.store import Sender
from closeloop.org.models import Unit

# Recording every use would turn each read into a write; a minute is precise enough to spot unused tokens.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def find_active_token(raw_token: str) -> ApiToken | None:
    """The unrevoked token with this secret, or None. A token of a person removed from the configuration is dead."""
    if not raw_token:
        return None
    token = (
        ApiToken.objects.select_related("person")
        .filter(token_hash=hash_token(raw_token), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.person is not None and not token.person.active):
        return None
    return token


def note_token_use(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_of(request: HttpRequest) -> ApiToken:
    """The caller's token, in a view declared with `auth=TokenAuth(...)` (Ninja puts it on the request)."""
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):
        raise TypeError("token_of() is for views behind TokenAuth")
    return token


def unit_limit(token: ApiToken) -> QuerySet[Unit] | None:
    """The units a token is limited to, each with everything below it; None for a token without units.
    A listed unit that is no longer configured limits it to nothing, never to everything."""
    if not token.units:
        return None
    paths = list(Unit.objects.filter(code__in=token.units).values_list("path", flat=True))
    if not paths:
        return Unit.objects.none()
    return Unit.objects.filter(reduce(or_, (Q(path__startswith=path) for path in paths)))


def token_units(token: ApiToken) -> QuerySet[Unit] | None:
    """The units whose data the token may read: its person's, within its own limit; None: every unit."""
    seen = visible_units(token.person)
    limit = unit_limit(token)
    if limit is None:
        return seen
    if seen is None:
        return limit
    return seen.filter(pk__in=limit.values("pk"))


def token_responses(token: ApiToken, queryset: QuerySet[Response]) -> QuerySet[Response]:
    """The responses of `queryset` the token may read."""
    visible = responses_visible_to(queryset, token.person)
    limit = unit_limit(token)
    return visible if limit is None else visible.filter(unit__in=limit)


def token_cases(token: ApiToken, queryset: QuerySet[Case]) -> QuerySet[Case]:
    """The cases of `queryset` the token may read."""
    visible = restrict_to_visible(queryset, token.person)
    limit = unit_limit(token)
    return visible if limit is None else visible.filter(unit__in=limit)


def token_alerts(token: ApiToken, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
    """The alerts of `queryset` the token may read."""
    units = token_units(token)
    return queryset if units is None else queryset.filter(unit__in=units)


def may_read(token: ApiToken, response: Response) -> bool:
    """Whether the token may be shown this response: it has the `read` scope and may see the response."""
    return "read" in token.scopes and token_responses(token, Response.objects.filter(pk=response.pk)).exists()


def may_submit_for(token: ApiToken, unit: Unit) -> bool:
    """Whether the token may submit (or move) responses to `unit`."""
    limit = unit_limit(token)
    return limit is None or limit.filter(pk=unit.pk).exists()


def sender_of(token: ApiToken) -> Sender:
    """The token as the sender of what it posts (feedback.store.Sender)."""
    return Sender(
        name=token.person.name if token.person else f"token {token.name}",
        units=tuple(token.units) if token.units else None,
        person=token.person,
    )


def log_token_view(request: HttpRequest, target: str) -> None:
    """Record in the audit log that the caller was given a customer's data (`target`)."""
    token = token_of(request)
    name = token.person.name if token.person else f"token {token.name}"
    record_view(target, now=timezone.now(), actor=token.person, actor_name=name, surface="api")


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with the given scope: 401 without a valid token, 403 without the scope."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"Unknown API scope {scope!r}; the scopes are {', '.join(SCOPES)}")
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = find_active_token(token.strip())
        if api_token is None:
            return None
        note_token_use(api_token)
        if self.scope not in api_token.scopes:
            raise AuthorizationError(message=f"This token lacks the `{self.scope}` scope needed here.")
        return api_token
