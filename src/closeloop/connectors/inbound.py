"""One HTTP request as a connector sees it, and the stdlib readers for the bodies tools send."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from closeloop.connectors.errors import PayloadUnreadable


class Headers(Mapping[str, str]):
    """Request headers, looked up case-insensitively (HTTP header names are)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._values: dict[str, str] = {}
        self._names: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            self._values[key] = value
            self._names[key] = name

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({sorted(self._names.values())!r})"


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Inbound:
    """The raw request: the exact body bytes (signatures are over them), headers, query and arrival time."""

    body: bytes
    headers: Headers = field(default_factory=Headers)
    query: Mapping[str, str] = field(default_factory=dict)
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    method: str = "POST"

    @classmethod
    def build(
        cls,
        body: bytes | str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        *,
        query: Mapping[str, str] | str = "",
        received_at: datetime | None = None,
        method: str = "POST",
    ) -> Inbound:
        """An Inbound from plain values; `query` may be a raw query string."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        params = dict(parse_qsl(query, keep_blank_values=True)) if isinstance(query, str) else dict(query)
        return cls(
            body=raw,
            headers=headers if isinstance(headers, Headers) else Headers(headers),
            query=params,
            received_at=received_at or datetime.now(UTC),
            method=method.upper(),
        )

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case: "application/json"."""
        return _media_type(self.headers.get("content-type", ""))

    def text(self) -> str:
        try:
            return self.body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PayloadUnreadable(f"the body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    def json(self) -> Any:
        """The body as JSON, whatever the Content-Type says (some tools label JSON as a form)."""
        text = self.text()
        if not text.strip():
            raise PayloadUnreadable("the body is empty")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise PayloadUnreadable(
                f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise PayloadUnreadable(f"expected a JSON object, got a JSON {type(data).__name__}")
        return data

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body; a repeated name keeps its last value."""
        try:
            return dict(parse_qsl(self.text(), keep_blank_values=True, strict_parsing=False))
        except ValueError as exc:
            raise PayloadUnreadable(f"the body is not a URL-encoded form ({exc})") from None

    def multipart(self) -> dict[str, str]:
        """A multipart/form-data body's text fields (uploaded files are kept as their text, if any)."""
        content_type = self.headers.get("content-type", "")
        if "boundary=" not in content_type:
            raise PayloadUnreadable("multipart/form-data without a boundary in the Content-Type header")
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + self.body)
        if not message.is_multipart():
            raise PayloadUnreadable("the body is not multipart/form-data")
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            charset = part.get_content_charset() or "utf-8"
            try:
                value = payload.decode(charset)
            except (UnicodeDecodeError, LookupError):
                raise PayloadUnreadable(f"form field {name!r} is not {charset} text") from None
            # The parser keeps the line break before the boundary as part of the value.
            fields[str(name)] = value.removesuffix("\r\n").removesuffix("\n")
        if not fields:
            raise PayloadUnreadable("the multipart body has no form fields (is the boundary right?)")
        return fields

    def fields(self) -> dict[str, str]:
        """The form fields of a urlencoded or multipart body, chosen by Content-Type."""
        if self.content_type == "multipart/form-data":
            return self.multipart()
        return self.form()
