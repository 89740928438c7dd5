"""Request guards for the API: a body size limit, and JSON errors for everything under /api/."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse

from closeloop.api.errors import error_response
from closeloop.logs import request_id

logger = logging.getLogger("closeloop.api")

API_PREFIX = "/api/"


def _too_large(limit: int, size: str) -> HttpResponse:
    return error_response(
        413,
        f"Request body is {size}; the limit is {limit} bytes (1 MiB).",
        [((), f"at most {limit} bytes")],
    )


def _is_streamed_without_length(request: HttpRequest) -> bool:
    # A chunked body has no Content-Length, and Django then reads it as empty, so it is buffered here.
    # Only when the server promises the stream ends with the body (gunicorn does): reading a raw
    # socket without that promise could wait for bytes the client never sends.
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and not request.META.get("CONTENT_LENGTH") and bool(request.META.get("wsgi.input_terminated"))


class BodySizeLimitMiddleware:
    """413 with the API's JSON error body for any body over CLOSELOOP_MAX_BODY_BYTES.

    A declared Content-Length is refused before reading; a chunked body is read up to
    one byte past the limit, never more, and handed on to Django when it fits.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.CLOSELOOP_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _too_large(limit, f"{length} bytes")
        if length == 0 and "wsgi.input" in request.META and _is_streamed_without_length(request):
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit, "over the limit")
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)


_DETAIL_BY_STATUS = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "Not found.",
    500: "Internal server error. The problem was logged.",
}


class ApiJsonErrorsMiddleware:
    """Any non-JSON error under /api/ (unknown path, wrong method, crash) becomes the API's JSON error body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return self._as_json(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        # The traceback goes to the log only: it can hold data the client must not see.
        logger.error("Unhandled error in %s %s", request.method, request.path, exc_info=exception)
        # The reference is the request id of the log line above.
        return error_response(500, f"Internal server error. The problem was logged (reference {request_id.get()}).")

    @staticmethod
    def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            replacement = error_response(405, f"Method {request.method} is not allowed here; allowed: {allowed}.")
            replacement["Allow"] = allowed
            return replacement
        detail = _DETAIL_BY_STATUS.get(status) or response.reason_phrase or "Error."
        if not detail.endswith("."):
            detail += "."
        return error_response(status, detail)
