"""closeloop's URLs plus pages that fail on purpose, for the tests of what a failure leaves behind."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from closeloop.urls import handler500
from closeloop.urls import urlpatterns as closeloop_urls


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the page broke")


def duplicate_customer(request: HttpRequest) -> HttpResponse:
    """A database error whose message (on PostgreSQL) quotes the posted email address."""
    email = request.POST["email"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE crash_customer (email varchar(200) UNIQUE)")
        cursor.execute("INSERT INTO crash_customer VALUES (%s)", [email])
        cursor.execute("INSERT INTO crash_customer VALUES (%s)", [email])
    return HttpResponse("unreachable")


urlpatterns = [
    path("crash/", crash),
    path("crash/database/", duplicate_customer),
    path("api/v1/crash/", crash),
    *closeloop_urls,
]

__all__ = ["handler500", "urlpatterns"]
