"""`/healthz` (the process answers), `/readyz` (it can do its job) and `/metrics` (Prometheus)."""

from __future__ import annotations

import hmac
import ipaddress
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from closeloop.notify.backlog import backlog
from closeloop.web.client_ip import came_through_a_proxy, client_ip
from closeloop.web.metrics import REGISTRY
from closeloop.worker.heartbeat import STALE_AFTER, last_beat

# A due delivery older than this means the workers are not keeping up (or none runs).
MAX_LAG = timedelta(minutes=5)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; touches nothing else (no database)."""
    return JsonResponse({"status": "ok"})


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return {"ok": False, "detail": f"the database does not answer ({type(error).__name__})"}
    return {"ok": True}


def _worker() -> dict[str, Any]:
    beat = last_beat()
    if beat is None:
        return {"ok": False, "detail": "no worker has ever run: start `closeloop worker` (or use `closeloop run`)"}
    age = (timezone.now() - beat).total_seconds()
    if age > STALE_AFTER.total_seconds():
        return {"ok": False, "heartbeat_age_seconds": round(age, 1), "detail": "no worker has begun a round lately"}
    return {"ok": True, "heartbeat_age_seconds": round(age, 1)}


def _deliveries() -> dict[str, Any]:
    now = timezone.now()
    waiting = backlog(now)
    lag = waiting.lag(now).total_seconds()
    result: dict[str, Any] = {"ok": lag <= MAX_LAG.total_seconds(), "oldest_due_age_seconds": round(lag, 1)}
    result["unsent"] = waiting.count
    if not result["ok"]:
        result["detail"] = "deliveries that are due wait longer than five minutes"
    return result


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, a worker beats and due deliveries go out; else 503 naming what fails."""
    checks: dict[str, dict[str, Any]] = {"database": _database()}
    if checks["database"]["ok"]:
        checks["worker"] = _worker()
        checks["deliveries"] = _deliveries()
    else:
        skipped = {"ok": False, "detail": "not checked: the database does not answer"}
        checks["worker"], checks["deliveries"] = dict(skipped), dict(skipped)
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ready" if not failing else "not ready", "failing": failing, "checks": checks}
    return JsonResponse(body, status=200 if not failing else 503)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def metrics_allowed(request: HttpRequest) -> tuple[bool, int, str]:
    """(allowed, status if not, why): the bearer METRICS_TOKEN, or this host itself when no token is set."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True, 200, ""
        return False, 401, "Send Authorization: Bearer <METRICS_TOKEN>."
    # Without a token, only a scraper on this host; a request a proxy forwarded came from elsewhere.
    forwarded = came_through_a_proxy(request) and not settings.TRUSTED_PROXY_COUNT
    if _is_loopback(client_ip(request)) and not forwarded:
        return True, 200, ""
    return False, 403, "Metrics are served to this host only; set METRICS_TOKEN to scrape them from elsewhere."


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    allowed, status, why = metrics_allowed(request)
    if not allowed:
        response = JsonResponse({"detail": why}, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
