"""gunicorn's logs in closeloop's shape: secret URL segments redacted, the request id, text or JSON."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from gunicorn import glogging

from closeloop.logs import AddRequestId, RedactSecrets, make_formatter, redact

# gunicorn's "combined" format, plus the request id and the time taken.
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s %(M)sms'


class GunicornLogger(glogging.Logger):
    access_fmt = "%(message)s"

    def setup(self, cfg: Any) -> None:
        cfg.set("access_log_format", ACCESS_FORMAT)
        super().setup(cfg)
        formatter = make_formatter(settings.LOG_FORMAT)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if log is self.error_log or settings.LOG_FORMAT == "json":
                    handler.setFormatter(formatter)
                handler.addFilter(AddRequestId())
                handler.addFilter(RedactSecrets())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if settings.LOG_FORMAT != "json":
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        headers = {str(k).lower(): v for k, v in (resp.headers or [])}
        self.access_log.info(
            "%s %s %s",
            atoms["m"],
            redact(environ.get("RAW_URI") or atoms["U"] or ""),
            atoms["s"],
            extra={
                "remote": atoms["h"],
                "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
                "bytes": atoms["B"],
                "duration_ms": atoms["M"],
                "referer": redact(atoms["f"]),
                "user_agent": atoms["a"],
                "request_id": headers.get("x-request-id", "-"),
            },
        )


def access_logger() -> logging.Logger:
    return logging.getLogger("gunicorn.access")
