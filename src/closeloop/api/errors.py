"""One error shape for the whole API: {"detail": "...", "errors": [{"loc": [...], "msg": "..."}]}.

`install_error_handlers(api)` makes Ninja answer every failure in that shape; the
middleware in closeloop.api.middleware does the same for what happens outside Ninja
(unknown paths, wrong methods, crashes before a view runs).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

E = TypeVar("E", bound=Exception)

logger = logging.getLogger("closeloop.api")

Loc = Sequence[str | int]

# Where Ninja puts a parameter; the client named the field, not the transport, so these go.
_PARAM_SOURCES = frozenset({"body", "query", "path", "header", "cookie", "form", "file"})


class ApiError(HttpError):
    """An error with a status, a sentence for people and the fields it is about."""

    def __init__(self, status_code: int, detail: str, errors: Iterable[tuple[Loc, str]] = ()) -> None:
        super().__init__(status_code, detail)
        self.detail = detail
        self.errors = [(tuple(loc), msg) for loc, msg in errors]


def invalid_field(loc: Loc, msg: str) -> ApiError:
    """A 422 about one field, e.g. `raise invalid_field(("srn",), "must be one of y, r")`."""
    return ApiError(422, f"Invalid {'.'.join(str(part) for part in loc)}: {msg}", [(loc, msg)])


def error_body(detail: str, errors: Iterable[tuple[Loc, str]] = ()) -> dict[str, Any]:
    return {"detail": detail, "errors": [{"loc": list(loc), "msg": msg} for loc, msg in errors]}


def error_response(status: int, detail: str, errors: Iterable[tuple[Loc, str]] = ()) -> JsonResponse:
    response = JsonResponse(error_body(detail, errors), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="closeloop"'
    return response


def field_errors_detail(errors: Sequence[tuple[Loc, str]]) -> str:
    """A one-line summary naming every bad field, for clients that only show `detail`."""
    named = ", ".join(".".join(str(part) for part in loc) or "body" for loc, _ in errors)
    return f"Invalid input: {named}." if named else "Invalid input."


def _client_loc(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    parts = tuple(loc)
    return parts[1:] if parts and parts[0] in _PARAM_SOURCES else parts


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Our own validators raise ValueError; pydantic prefixes their words with "Value error, ".
    errors = [
        (_client_loc(item.get("loc", ())), str(item.get("msg", "invalid")).removeprefix("Value error, "))
        for item in exc.errors
    ]
    return error_response(422, field_errors_detail(errors), errors)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.detail, exc.errors)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # Ninja turns an unparsable body into a 400; the contract calls malformed JSON a 422.
        return malformed_json_response(exc.__cause__)
    if isinstance(exc, AuthenticationError):
        return error_response(401, "Authentication required: send `Authorization: Bearer <token>` with a valid token.")
    if isinstance(exc, AuthorizationError):
        return error_response(403, str(exc))
    return error_response(exc.status_code, str(exc))


def malformed_json_detail(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
    return "Malformed JSON: the body is not valid UTF-8 JSON."


def malformed_json_response(exc: ValueError) -> JsonResponse:
    return error_response(422, malformed_json_detail(exc), [((), "the body must be a JSON object")])


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "Not found.")


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The traceback goes to the log only: it can hold data the client must not see.
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return error_response(500, "Internal server error. The problem was logged.")


def on_error(api: NinjaAPI, exc_class: type[E], handler: Callable[[HttpRequest, E], HttpResponse]) -> None:
    """Register `handler` for `exc_class`. Ninja's annotation asks for a handler that also accepts the class
    itself, which no handler does; Ninja only ever passes the exception."""
    api.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]


def install_error_handlers(api: NinjaAPI) -> None:
    on_error(api, ValidationError, _validation_error)
    on_error(api, HttpError, _http_error)
    on_error(api, Http404, _not_found)
    on_error(api, Exception, _unexpected)


def parse_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, or an ApiError 422 saying why it is not one."""
    try:
        data = json.loads(request.body or b"")
    except ValueError as exc:
        if not request.body:
            raise ApiError(422, "Malformed JSON: the body is empty.", [((), "a JSON object is required")]) from exc
        raise ApiError(422, malformed_json_detail(exc), [((), "the body must be a JSON object")]) from exc
    if not isinstance(data, dict):
        raise ApiError(422, "The body must be a JSON object.", [((), f"expected an object, got {json_type(data)}")])
    return data


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "null"
