"""django-axes as the first authentication backend, for sign-ins that come from a web request.

Axes refuses to authenticate without a request; calls without one are not sign-ins from the web
(a management command, `closeloop shell`, the test client's login) and have nothing to throttle, so
they fall through to the next backend.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username, password, **kwargs)
        return None
