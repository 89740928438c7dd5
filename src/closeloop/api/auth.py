"""Bearer-token authentication with scopes.

Declare what an endpoint needs with `auth=TokenAuth("read")`; inside the view
`request.auth` is the caller's `ApiToken` (its `.person` is None for a service token).
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from closeloop.api.models import SCOPES, ApiToken, hash_token
from closeloop.audit.log import record_view

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
