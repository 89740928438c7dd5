"""Request-wide middleware: the request id, and no caching of anything but static files."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from closeloop.logs import request_id

# What a proxy or a client may pass on as X-Request-ID; anything else is replaced by a new id.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes the X-Request-ID a proxy sent (or makes one), logs with it, and echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        current = incoming if _ACCEPTED_ID.match(incoming) else new_request_id()
        request.request_id = current  # type: ignore[attr-defined]
        token = request_id.set(current)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = current
        return response


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response a view made, unless the view chose otherwise.

    Pages behind the login, API answers and the report PDFs all carry customer data; browsers and
    shared caches must not keep them (the back button after signing out, a proxy's disk). Static files
    are answered by WhiteNoise before this runs and keep their long cache lifetimes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response:
            patch_cache_control(response, private=True, no_store=True)
        return response
