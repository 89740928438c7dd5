"""The outbox: every message the system sent or tried to send, for administrators."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.notify.backlog import backlog
from closeloop.notify.channels import STORED_IN_OUTBOX
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import retry_now
from closeloop.web.lists import page_of
from closeloop.web.permissions import admin_view
from closeloop.web.views.common import back_to, page

# "kept" is not a status of its own: a message kept here was handled ("sent") by a channel with no server.
KEPT = "kept"


@admin_view
def outbox(request: HttpRequest) -> HttpResponse:
    deliveries = (
        Delivery.objects.select_related("person", "alert")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )
    status = request.GET.get("status", "")
    if status == KEPT:
        deliveries = deliveries.filter(status=Delivery.Status.SENT, provider_id=STORED_IN_OUTBOX)
    elif status == Delivery.Status.SENT:
        deliveries = deliveries.filter(status=status).exclude(provider_id=STORED_IN_OUTBOX)
    elif status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    else:
        status = ""
    now = timezone.now()
    context = {
        "page": page_of(request, deliveries),
        "status": status,
        "statuses": [*Delivery.Status.values, KEPT],
        "backlog": backlog(now),
        "now": now,
        # Without a server a channel keeps its messages here: say so before anyone wonders why nobody got them.
        "no_email_server": getattr(settings, "EMAIL_SERVER", None) is None,
        "no_sms_server": not getattr(settings, "SMS_URL", None),
        "site_url": settings.SITE_URL,
    }
    return page(request, "web/outbox.html", context)


@require_POST
@admin_view
def retry_delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    if delivery.status == Delivery.Status.FAILED and retry_now([delivery], timezone.now()):
        messages.success(request, f"Delivery {delivery.pk} is queued again.")
    else:
        messages.info(request, f"Delivery {delivery.pk} had not failed, so it was left as it is.")
    return back_to(request, "/outbox/")
