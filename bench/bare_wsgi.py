"""The ceiling of bench/http.py: a WSGI app that parses the JSON body and answers 201 with a small JSON.

Served by gunicorn with the worker count `closeloop serve` uses, it measures what HTTP, the WSGI server and
one JSON parse cost on this machine, with no framework, no authentication and no database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from itertools import count
from typing import Any

_ids = count(1)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    answer = json.dumps({"id": next(_ids), "external_id": body.get("external_id"), "status": "valid"}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
    return [answer]
