"""Asking for a password reset, throttled: one mail per email address per 15-minute window, and at most
PASSWORD_RESET_PER_ADDRESS requests from one client address (django-ratelimit, in the database cache).

A second request for the same email inside the window gets the usual "check your email" page and sends
nothing: the page reads the same whether or not an account exists, and so does the limit.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib.auth.views import PasswordResetView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django_ratelimit.core import get_usage

from closeloop.web.client_ip import client_ip


def _address_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def _email_key(group: str, request: HttpRequest) -> str:
    return str(request.POST.get("email", "")).strip().lower()


class ThrottledPasswordResetView(PasswordResetView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        usage = get_usage(
            request,
            group="password-reset:address",
            key=_address_key,
            rate=settings.PASSWORD_RESET_PER_ADDRESS,
            method="POST",
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            minutes = max(1, math.ceil(max(usage["time_left"], 0) / 60))
            response = render(request, "web/password_reset_limited.html", {"minutes": minutes}, status=429)
            response["Retry-After"] = str(max(1, usage["time_left"]))
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        usage = get_usage(
            self.request,
            group="password-reset:email",
            key=_email_key,
            rate=settings.PASSWORD_RESET_PER_EMAIL,
            method="POST",
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
