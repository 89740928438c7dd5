"""The praise wall: what delighted customers said, and who they said it about."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.actions import praise
from closeloop.alerts.models import Alert
from closeloop.feedback.models import Question
from closeloop.web.lists import page_of
from closeloop.web.permissions import Viewer, web_view
from closeloop.web.views.common import back_to, page

PRAISE_PAGE = 24


@web_view
def praise_wall(request: HttpRequest) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    alerts = viewer.alerts(
        Alert.objects.filter(kind="praise").select_related("unit", "response", "response__agent", "response__customer")
    ).order_by("-created_at", "-id")
    listing = page_of(request, alerts, size=PRAISE_PAGE)
    text_keys: dict[int, list[str]] = {}
    for survey_id, key in Question.objects.filter(type=Question.Type.TEXT).values_list("survey_id", "key"):
        text_keys.setdefault(survey_id, []).append(key)
    cards = []
    for alert in listing.rows:
        answers = alert.response.answers
        words = [str(answers[k]) for k in text_keys.get(alert.response.survey_id, []) if answers.get(k)]
        cards.append({"alert": alert, "words": words})
    return page(request, "web/praise.html", {"page": listing, "cards": cards})


@require_POST
@web_view
def share_praise(request: HttpRequest, alert_id: int) -> HttpResponse:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    alert = viewer.alerts(Alert.objects.filter(kind="praise").select_related("unit", "response")).filter(pk=alert_id)
    found = alert.first()
    if found is None:
        raise Http404("No such praise")
    created, reached = praise.share_praise(found, actor=viewer.person, now=timezone.now())
    if reached == 0:
        messages.error(request, "Nobody in this unit has an email address to share it with.")
    elif created == 0:
        messages.info(request, "This was already shared with the team.")
    else:
        messages.success(request, f"Shared with {created} people by email.")
    return back_to(request, "/praise/")
