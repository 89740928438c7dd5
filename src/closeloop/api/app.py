"""The /api/v1 NinjaAPI object: error handling, the OpenAPI document and the mounted routers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext

from closeloop.api.errors import error_response, field_errors_detail, install_error_handlers, on_error
from closeloop.api.openapi import add_documented_bodies
from closeloop.api.routers import alerts, cases, loop, reports, responses
from closeloop.feedback.store import RejectedInput

DESCRIPTION = """Closed-loop customer feedback: post survey responses, read alerts and cases, act on them.

Authenticate with `Authorization: Bearer <token>` (create one with `closeloop token create`).
Every error body is `{"detail": "...", "errors": [{"loc": [...], "msg": "..."}]}`."""


class CloseloopAPI(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext]) -> ValidationError:
        """Ninja's errors, without the name of a whole-body parameter: the client never sent that key."""
        error = super().validation_error_from_error_contexts(error_contexts)
        body_params = {
            getattr(context.model, "__read_from_single_attr__", None)
            for context in error_contexts
            if context.model.__ninja_param_source__ == "body"
        } - {None}
        for item in error.errors:
            loc = tuple(item.get("loc", ()))
            if len(loc) > 1 and loc[0] == "body" and loc[1] in body_params:
                item["loc"] = (loc[0], *loc[2:])
        return error

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        add_documented_bodies(schema)
        return schema


def _rejected_input(request: HttpRequest, exc: RejectedInput) -> HttpResponse:
    errors = [(error.loc, error.msg) for error in exc.errors]
    return error_response(422, field_errors_detail(errors), errors)


api = CloseloopAPI(title="closeloop", version="1", description=DESCRIPTION, urls_namespace="api")
install_error_handlers(api)
on_error(api, RejectedInput, _rejected_input)

api.add_router("/responses", responses.router)
api.add_router("/alerts", alerts.router)
api.add_router("/cases", cases.router)
api.add_router("/reports", reports.router)
api.add_router("/", loop.router)
