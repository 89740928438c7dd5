"""The 500 page: the request id, so a person can quote it and the operator find the log line."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader

from closeloop.logs import request_id


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without context processors: whatever broke the view may break them too.
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": request_id.get()}))
