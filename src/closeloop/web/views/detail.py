"""One response as the detail pages show it, for viewers allowed to see it."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.urls import reverse

from closeloop.alerts.messages import answer_lines, contact_of, overall_score, web_link
from closeloop.alerts.models import Alert
from closeloop.alerts.text_judging import CUSTOMER, INTERVIEWER, heard_in
from closeloop.core.hosts import origin_of
from closeloop.feedback.models import Response
from closeloop.feedback.recordings import may_play
from closeloop.notify.models import Delivery
from closeloop.org.directory import current_organization
from closeloop.web.permissions import Viewer


def visible_response(request: HttpRequest, response_id: int) -> Response:
    """The response if the viewer may see it; 404 otherwise, so hidden ones cannot be told from missing ones."""
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    deliveries = Prefetch("messages", queryset=Delivery.objects.select_related("person").order_by("id"))
    alerts = Prefetch("alerts", queryset=Alert.objects.prefetch_related(deliveries).order_by("id"))
    queryset = Response.objects.select_related("survey", "unit", "customer", "agent", "superseded_by")
    response = viewer.responses(queryset.prefetch_related(alerts)).filter(pk=response_id).first()
    if response is None:
        raise Http404("No such response")
    return response


def response_context(response: Response) -> dict[str, object]:
    lines = answer_lines(response)
    organization = current_organization()
    heard = {each.voice: each for each in heard_in(response)}
    audio = _audio_source(response)  # looks for an uploaded file: once a page
    return {
        # What the text model heard, each voice where its words are shown.
        "heard_customer": heard.get(CUSTOMER),
        "heard_interviewer": heard.get(INTERVIEWER),
        "response": response,
        "words": [line for line in lines if line.is_text],
        "answers": [line for line in lines if not line.is_text],
        "score": overall_score(response),
        "contact": contact_of(response),
        "ticket_url": organization.ticket_link(response.ticket),
        "audio_url": audio,
        "audio_text": _audio_text(response, audio),
        "media_sources": _media_sources(audio),
    }


def _audio_source(response: Response) -> str:
    """The uploaded recording (played through the checked view) or one hosted elsewhere on its source's
    allow-list of hosts; nothing without the customer's consent."""
    if not response.contact_ok:
        return ""
    if may_play(response):
        return reverse("response-audio", args=[response.pk])
    return web_link(response.audio_url) if response.audio_url_allowed else ""


def _media_sources(source: str) -> list[str]:
    """The origin of a recording hosted elsewhere (`source`, from `_audio_source`), for the page's
    Content-Security-Policy: the page's `media-src` names that one host, so the player works and no other
    site's media can load."""
    origin = origin_of(source) if source.startswith("https://") else ""
    return [origin] if origin else []


def _audio_text(response: Response, source: str) -> str:
    """A recording address that is not on its source's allow-list (`source`, from `_audio_source`, is
    empty): the page shows it as words, not a link."""
    if not response.contact_ok or source or not response.audio_url:
        return ""
    return response.audio_url
