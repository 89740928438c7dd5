"""The page shown instead of the login form after too many failed attempts: when to try again."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from closeloop.web.client_ip import client_ip


def unlocked_at(request: HttpRequest, credentials: dict[str, Any] | None) -> datetime:
    """The end of the lockout: the cool-off after the last failure of this account or this address."""
    username = get_client_username(request, credentials)
    matching = Q(ip_address=client_ip(request))
    if username:
        matching |= Q(username=username)
    last = AccessAttempt.objects.filter(matching).aggregate(last=Max("attempt_time"))["last"]
    cool_off = get_cool_off(request)
    return (last or timezone.now()) + cool_off if cool_off else timezone.now()


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    now = timezone.now()
    until = unlocked_at(request, credentials)
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    response = render(
        request,
        "web/locked_out.html",
        {"until": timezone.localtime(until), "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(max(1, int((until - now).total_seconds())))
    return response
