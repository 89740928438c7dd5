"""Request guards: a body size limit, text that can be stored (no NUL, no lone surrogate, no absurd nesting)
in every query string, form and API body, and JSON errors for everything under /api/ and /hooks/."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from closeloop.api.errors import error_response, field_errors_detail
from closeloop.core.limits import MAX_NESTING, Location, text_problem, unsafe_value
from closeloop.logs import request_id

logger = logging.getLogger("closeloop.api")

API_PREFIX = "/api/"
# The survey tools' endpoints answer in the API's error shape too.
HOOKS_PREFIX = "/hooks/"
# The batch endpoint checks each item on its own, so one bad item is refused alone (api/routers/responses.py).
BATCH_PATH = "/api/v1/responses/batch"
JSON_PREFIXES = (API_PREFIX, HOOKS_PREFIX)


# An interview recording upload (multipart) may be as large as CLOSELOOP_AUDIO_MAX_BYTES, plus the few
# bytes of its multipart envelope; every other API body stays within CLOSELOOP_MAX_BODY_BYTES.
RECORDING_UPLOAD = re.compile(r"^/api/v1/responses/\d+/audio/?$")
MULTIPART_ENVELOPE_BYTES = 64 * 1024


def _too_large(limit: int, size: str, what: str = "Request body") -> HttpResponse:
    return error_response(
        413,
        f"{what} is {size}; the limit is {limit} bytes ({limit / (1024 * 1024):g} MiB).",
        [((), f"at most {limit} bytes")],
    )


def body_limit(request: HttpRequest) -> tuple[int, str]:
    """The largest body this request may have, and what to call it in the 413."""
    if request.method == "POST" and RECORDING_UPLOAD.match(request.path):
        return settings.CLOSELOOP_AUDIO_MAX_BYTES + MULTIPART_ENVELOPE_BYTES, "The upload"
    return settings.CLOSELOOP_MAX_BODY_BYTES, "Request body"


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
        limit, what = body_limit(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _too_large(limit, f"{length} bytes", what)
        if length == 0 and "wsgi.input" in request.META and _is_streamed_without_length(request):
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit, "over the limit", what)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _unsafe_parameter(parameters: object, where: str) -> tuple[Location, str] | None:
    """The first query or form parameter (name or value) that is not storable text."""
    for key, values in parameters.lists():  # type: ignore[attr-defined]
        problem = text_problem(key)
        if problem:
            return (where, key), f"parameter name {problem}"
        for value in values:
            if isinstance(value, str) and (problem := text_problem(value)):
                return (where, key), problem
    return None


def _unsafe_json_body(request: HttpRequest) -> tuple[Location, str] | None:
    try:
        document = json.loads(request.body)
    except RecursionError:
        return (), f"nested more than {MAX_NESTING} levels deep"
    except ValueError:
        return None  # malformed JSON: the endpoint reports it in its own words
    return unsafe_value(document)


class InputSafetyMiddleware:
    """Refuses, naming the field, text that would crash a database or a page later: a NUL character
    (PostgreSQL refuses it), a lone surrogate (not encodable for SQLite or a response), JSON nested past
    MAX_NESTING (Python's parser would hit its recursion limit). API answers 422 in the API's error shape;
    pages answer 400."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _unsafe_parameter(request.GET, "query")
        content_type = request.content_type or ""
        # A webhook's body is the tool's own, signed as sent: it is verified first and its translated items are
        # checked by the ingest store like any other, so one bad field never refuses the whole delivery.
        receiving = request.path.startswith(HOOKS_PREFIX) or request.path == BATCH_PATH
        if found is None and request.method in ("POST", "PUT", "PATCH") and not receiving:
            if content_type.startswith(FORM_TYPES):
                found = _unsafe_parameter(request.POST, "form")
            elif content_type == "application/json" or request.path.startswith(API_PREFIX):
                found = _unsafe_json_body(request)
        if found is None:
            return self.get_response(request)
        location, problem = found
        if request.path.startswith(JSON_PREFIXES):
            errors = [(location, problem)]
            return error_response(422, field_errors_detail(errors), errors)
        name = ".".join(str(part) for part in location) or "the request"
        return HttpResponseBadRequest(f"{name}: {problem}", content_type="text/plain; charset=utf-8")


_DETAIL_BY_STATUS = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "Not found.",
    500: "Internal server error. The problem was logged.",
}


class ApiJsonErrorsMiddleware:
    """Any non-JSON error under /api/ or /hooks/ (unknown path, wrong method, crash) becomes the API's JSON
    error body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(JSON_PREFIXES) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return self._as_json(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(JSON_PREFIXES):
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
