"""Interview recordings: played on the response page, and reached from alert emails by a signed link.

The file is never served as a static file: `/responses/<id>/audio` checks that the viewer (a login, or an
API token with `read`) may see the response, and `/recordings/<token>` that the link's signature holds
and has not expired. Neither plays a recording once the customer no longer agrees to be contacted.
"""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_GET

from closeloop.feedback.models import Response
from closeloop.feedback.recordings import may_play, read_recording_token, recording_path
from closeloop.web.permissions import Reader, reader_for


def _play(response: Response) -> HttpResponseBase:
    path: Path | None = recording_path(response)
    if path is None or not may_play(response):
        return HttpResponse("No recording can be played for this response.", status=404, content_type="text/plain")
    served = FileResponse(path.open("rb"), content_type=response.audio_type or "application/octet-stream")
    served["Content-Disposition"] = f'inline; filename="response-{response.pk}{path.suffix}"'
    # A customer's voice: never kept by a shared cache, never sniffed into something else.
    served["Cache-Control"] = "private, no-store"
    served["X-Content-Type-Options"] = "nosniff"
    return served


@require_GET
def response_audio(request: HttpRequest, response_id: int) -> HttpResponseBase:
    reader = reader_for(request)
    if not isinstance(reader, Reader):
        return reader
    responses = Response.objects.select_related("customer")
    if reader.units is not None:
        responses = responses.filter(unit__in=reader.units)
    response = responses.filter(pk=response_id).first()
    if response is None:
        # A response the reader may not see reads as missing.
        return HttpResponse("No such response.", status=404, content_type="text/plain")
    return _play(response)


@require_GET
def recording_link(request: HttpRequest, token: str) -> HttpResponseBase:
    response_id = read_recording_token(token)
    response = Response.objects.select_related("customer").filter(pk=response_id).first() if response_id else None
    if response is None:
        return HttpResponse(
            "This link to the recording is not valid any more: open the response to listen to it.",
            status=404,
            content_type="text/plain",
        )
    return _play(response)
