"""/api/v1/responses: survey tools post responses here; integrators list, read and fix them."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Query, Router, Status, UploadedFile

from closeloop.actions import fix_response as fixing
from closeloop.actions.attach_recording import attach_recording
from closeloop.actions.ingest import ingest_response, ingest_responses
from closeloop.api.auth import (
    TokenAuth,
    log_token_view,
    may_read,
    may_submit_for,
    sender_of,
    token_of,
    token_responses,
    token_units,
)
from closeloop.api.errors import (
    ApiError,
    error_body,
    field_errors_detail,
    invalid_field,
    json_type,
    parse_json_object,
)
from closeloop.api.models import ApiToken
from closeloop.api.openapi import json_body
from closeloop.api.pagination import paginate
from closeloop.api.schemas import (
    BATCH_LIMIT,
    ErrorOut,
    ReplayOut,
    ResponseBatchIn,
    ResponseBatchOut,
    ResponseFilters,
    ResponseOut,
    ResponsePageOut,
)
from closeloop.api.serializers import response_to_dict
from closeloop.cases.queries import (
    load_related_rows,
    responses_for_api,
    responses_for_srn,
    with_related_rows,
)
from closeloop.core.limits import unsafe_value
from closeloop.core.vocabulary import shows_notes
from closeloop.feedback.models import Response, Survey
from closeloop.feedback.queries import in_unit_subtree, submitted_on
from closeloop.feedback.recordings import RecordingRefused
from closeloop.feedback.schemas import ResponseFixIn, ResponseIn
from closeloop.feedback.store import IngestResult, RejectedInput
from closeloop.org.directory import current_organization
from closeloop.org.models import Unit

router = Router(tags=["responses"])

ERRORS: dict[int, type[ErrorOut]] = {code: ErrorOut for code in (401, 403, 404, 413, 422)}


def _visible_response(request: HttpRequest, response_id: int) -> Response:
    """The response if the caller may see it; 404 otherwise, so hidden responses cannot be told from missing ones."""
    response = token_responses(token_of(request), responses_for_api()).filter(pk=response_id).first()
    if response is None:
        raise ApiError(404, f"No response {response_id}.")
    return response


def _reloaded(response: Response) -> dict[str, Any]:
    # Re-read with the related rows (alerts, unit, customer) the services may just have written.
    return response_to_dict(responses_for_api().get(pk=response.pk))


def _check_unit_allowed(token: ApiToken, item: dict[str, Any]) -> None:
    """403 naming the unit when a token limited to units sends a response for another known unit. An unknown
    or missing unit is quarantined as for any token: nobody limited to units sees or fixes it."""
    code = item.get("unit")
    if not token.units or not isinstance(code, str):
        return
    unit = Unit.objects.filter(code=code.strip()).first()
    if unit is not None and not may_submit_for(token, unit):
        message = f"this token may submit responses for {', '.join(token.units)} only, not {unit.code!r}"
        raise ApiError(403, f"unit: {message}.", [(("unit",), message)])


@router.post(
    "",
    auth=TokenAuth("ingest"),
    response={200: ResponseOut | ReplayOut, 201: ResponseOut, **ERRORS},
    openapi_extra=json_body(ResponseIn, "One survey response; `survey`, `external_id` and `answers` are required."),
    summary="Submit a survey response",
)
def create_response(request: HttpRequest) -> Status[dict[str, Any]]:
    """201 with the stored response; 200 when the same survey + external_id was sent before: the stored
    response for a token with `read` that may see it, else only its `id` and `status`. A token limited to
    units gets 403 for a response of another unit."""
    token = token_of(request)
    item = parse_json_object(request)
    _check_unit_allowed(token, item)
    result = ingest_response(item, source="api", now=timezone.now(), sender=sender_of(token))
    if result.created:
        # The stored object already holds its survey, unit, agent and customer: load only what was added.
        with_related_rows(result.response)
    return Status(*_answer(token, result))


def _answer(token: ApiToken, result: IngestResult) -> tuple[int, dict[str, Any]]:
    """The status and body for one stored item, the same for a single post and an item of a batch: a new
    response (its related rows already loaded) 201; a replay 200 with the stored response for a token that
    may read it, else only its `id` and `status`."""
    if result.created:
        body = response_to_dict(result.response)
        if body["notes"] and not may_read(token, result.response):
            # The notes came with a case this response took over from an earlier one of its ticket: other
            # people's words, for readers of the response only.
            body["notes"] = []
        return 201, body
    if not may_read(token, result.response):
        # A replay must not show a response the caller may not read: an external id can be guessed.
        return 200, {"id": result.response.pk, "status": result.response.status}
    return 200, _reloaded(result.response)


def _rejected(errors: list[tuple[tuple[str | int, ...], str]]) -> tuple[int, dict[str, Any]]:
    return 422, error_body(field_errors_detail(errors), errors)


@router.post(
    "/batch",
    auth=TokenAuth("ingest"),
    response={200: ResponseBatchOut, **ERRORS},
    openapi_extra=json_body(
        ResponseBatchIn, f"`items`: 1 to {BATCH_LIMIT} survey responses, each as for a single post."
    ),
    summary="Submit up to 500 survey responses",
)
def create_responses(request: HttpRequest) -> dict[str, Any]:
    """200 with one result per item, in order: the `status` and `body` a single post of that item would get.

    The items that can be stored are stored in one transaction, with their alerts, cases and deliveries;
    an item refused (422) is refused alone. A failure of the whole batch (a 5xx) stores nothing, so
    sending the batch again is always safe: the items already stored come back as replays (200).
    """
    data = parse_json_object(request)
    items = data.get("items")
    if set(data) - {"items"}:
        unknown = sorted(set(data) - {"items"})
        raise ApiError(
            422, "Unknown fields.", [((name,), 'unknown field; the body is {"items": [...]}') for name in unknown]
        )
    if not isinstance(items, list) or not items:
        raise invalid_field(("items",), f"a list of 1 to {BATCH_LIMIT} responses is required")
    if len(items) > BATCH_LIMIT:
        raise invalid_field(("items",), f"at most {BATCH_LIMIT} responses per request, not {len(items)}")
    token = token_of(request)
    results: list[tuple[int, dict[str, Any]] | None] = [None] * len(items)
    accepted: list[int] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results[index] = _rejected([((), f"expected an object, got {json_type(item)}")])
        elif (unsafe := unsafe_value(item)) is not None:
            results[index] = _rejected([unsafe])
        else:
            try:
                _check_unit_allowed(token, item)
            except ApiError as refused:
                results[index] = refused.status_code, error_body(refused.detail, refused.errors)
                continue
            accepted.append(index)
    outcomes = ingest_responses(
        [items[index] for index in accepted], source="api", now=timezone.now(), sender=sender_of(token)
    )
    load_related_rows([o.response for o in outcomes if isinstance(o, IngestResult) and o.created])
    for index, outcome in zip(accepted, outcomes, strict=True):
        if isinstance(outcome, RejectedInput):
            results[index] = _rejected([(error.loc, error.msg) for error in outcome.errors])
        else:
            results[index] = _answer(token, outcome)
    answered = [{"status": status, "body": body} for status, body in results]  # type: ignore[misc]
    counts = Counter(status for status, _ in results)  # type: ignore[misc]
    return {
        "items": answered,
        "created": counts[201],
        "replayed": counts[200],
        "rejected": counts[422] + counts[403],
    }


@router.get("", auth=TokenAuth("read"), response={200: ResponsePageOut, **ERRORS}, summary="List responses")
def list_responses(request: HttpRequest, filters: Query[ResponseFilters]) -> dict[str, Any]:
    """Newest first, 50 a page; only current responses unless `include_superseded=true`."""
    responses = token_responses(token_of(request), responses_for_api())
    if not filters.include_superseded:
        responses = responses.filter(superseded_by__isnull=True)
    if filters.unit is not None:
        found = Unit.objects.filter(code=filters.unit).first()
        if found is None:
            raise invalid_field(("unit",), f"unknown unit {filters.unit!r}")
        responses = in_unit_subtree(responses, found)
    if filters.survey is not None:
        if not Survey.objects.filter(key=filters.survey).exists():
            raise invalid_field(("survey",), f"unknown survey {filters.survey!r}")
        responses = responses.filter(survey__key=filters.survey)
    organization = current_organization()
    if filters.date is not None:
        responses = submitted_on(responses, filters.date, organization.time_zone)
    if filters.ticket is not None:
        responses = responses.filter(ticket=filters.ticket)
    if filters.status is not None:
        responses = responses.filter(status=filters.status)
    responses = responses_for_srn(responses, filters.srn)
    serialise = partial(response_to_dict, organization=organization, notes=shows_notes(filters.srn))
    return paginate(request, responses, serialise)


@router.get(
    "/{int:response_id}", auth=TokenAuth("read"), response={200: ResponseOut, **ERRORS}, summary="Get a response"
)
def get_response(request: HttpRequest, response_id: int) -> dict[str, Any]:
    response = _visible_response(request, response_id)
    log_token_view(request, f"response:{response.pk}")
    return response_to_dict(response)


@router.patch(
    "/{int:response_id}",
    auth=TokenAuth("write"),
    response={200: ResponseOut, **ERRORS},
    openapi_extra=json_body(ResponseFixIn, "The unit and/or segment to set."),
    summary="Fix a quarantined response",
)
def fix_response(request: HttpRequest, response_id: int) -> dict[str, Any]:
    """Set the unit and/or segment; once valid, the response is evaluated as if it had just arrived."""
    response = _visible_response(request, response_id)
    token = token_of(request)
    changes = parse_json_object(request)
    moving = response.status == Response.Status.VALID and changes.get("unit", response.unit_code) != response.unit_code
    if moving and token_units(token) is not None:
        # Reassigning a valid response moves its case and team: an organisation-wide decision.
        raise ApiError(403, "Only an admin (or a service token) may move a valid response to another unit.")
    _check_unit_allowed(token, changes)
    fixed = fixing.fix_response(response, changes, now=timezone.now(), actor=token.person)
    return _reloaded(fixed)


@router.post(
    "/{int:response_id}/audio",
    auth=TokenAuth("ingest"),
    response={200: ResponseOut, 409: ErrorOut, **ERRORS},
    summary="Upload the interview's recording",
)
def upload_recording(request: HttpRequest, response_id: int, audio: File[UploadedFile]) -> dict[str, Any]:
    """Multipart form with the file in `audio` (mp3, wav, ogg or m4a, told by its content, not its name).

    Kept only when the customer agreed to be contacted (409 otherwise); larger than CLOSELOOP_AUDIO_MAX_BYTES
    (25 MiB unless set): 413; not one of the accepted types: 422 naming `audio`. A second upload replaces
    the first. The response page plays it, and alert emails that have not left yet link to it.
    """
    response = _visible_response(request, response_id)
    try:
        attach_recording(response, audio)
    except RecordingRefused as refused:
        detail = f"{refused.field}: {refused.message}"
        raise ApiError(refused.status, detail, [((refused.field,), refused.message)]) from None
    return _reloaded(response)
