"""The outbox: every message the system sent or tried to send, for administrators."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_POST

from closeloop.notify.backlog import backlog
from closeloop.notify.models import Delivery
from closeloop.notify.outbox import retry_now
from closeloop.web.lists import page_of
from closeloop.web.permissions import admin_view
from closeloop.web.views.common import back_to, page


@admin_view
def outbox(request: HttpRequest) -> HttpResponse:
    deliveries = (
        Delivery.objects.select_related("person", "alert")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in Delivery.Status.values:
        deliveries = deliveries.filter(status=status)
    else:
        status = ""
    now = timezone.now()
    context = {
        "page": page_of(request, deliveries),
        "status": status,
        "statuses": Delivery.Status.values,
        "backlog": backlog(now),
        "now": now,
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
