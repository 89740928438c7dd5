"""`/hooks/<source key>`: where survey and helpdesk tools post, each proving itself with its own signature
or token (no API token, no session, no CSRF). Errors have the API's JSON shape."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from closeloop.actions.receive_hook import receive_hook
from closeloop.api.errors import error_body
from closeloop.connectors import Inbound
from closeloop.intake.sources import source_entry

ALLOWED = "POST, GET, HEAD"


@csrf_exempt
def hook(request: HttpRequest, key: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        # SurveyMonkey checks the URL this way before it accepts a webhook.
        if source_entry(key) is None:
            return JsonResponse(error_body(f"No source {key!r}."), status=404)
        return HttpResponse(status=200)
    if request.method != "POST":
        response = JsonResponse(
            error_body(f"Method {request.method} is not allowed here; allowed: {ALLOWED}."), status=405
        )
        response["Allow"] = ALLOWED
        return response
    now = timezone.now()
    inbound = Inbound.build(
        request.body, request.headers.items(), query=request.GET.dict(), received_at=now, method="POST"
    )
    reply = receive_hook(key, inbound, now=now)
    return JsonResponse(reply.body(), status=reply.status)
