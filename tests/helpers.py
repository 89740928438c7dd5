"""Helpers shared by the test folders: API tokens, a client that sends them, and a thread race."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from django.db import connection
from django.test import Client

from closeloop.api.models import ApiToken, hash_token
from closeloop.config.apply import apply_config
from closeloop.org.models import Person

ACME_YAML = Path(__file__).parent / "fixtures" / "acme.yaml"


def acme_data() -> dict[str, Any]:
    """tests/fixtures/acme.yaml as data, to change before applying."""
    return yaml.safe_load(ACME_YAML.read_text())


def apply_acme(change: Callable[[dict[str, Any]], object]) -> Any:
    """Apply Acme after `change` edited it in place, through the real loader; returns the plan."""
    data = acme_data()
    change(data)
    return apply_config(yaml.safe_dump(data, sort_keys=False))


def person_entry(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in data["people"] if p["id"] == key)


def create_token(
    scopes: list[str], person: Person | None = None, name: str | None = None, units: list[str] | None = None
) -> str:
    secret = ApiToken.generate()
    ApiToken.objects.create(
        name=name or f"test-{'-'.join(scopes)}-{secret[3:9]}",
        token_hash=hash_token(secret),
        hint=secret[:8],
        scopes=scopes,
        person=person,
        units=units or [],
    )
    return secret


class ApiClient:
    """Django's test client with a bearer token and JSON bodies."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query, headers=self._headers())

    def send(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body).encode()
        return self.client.generic(method, path, data, content_type="application/json", headers=self._headers())

    def post(self, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        return self.send("POST", path, body, raw)

    def patch(self, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        return self.send("PATCH", path, body, raw)


def race(work: list[Callable[[], Any]]) -> list[BaseException]:
    """Run the callables in threads released at the same instant; returns the errors they raised."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(fn: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            fn()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
