"""Every link the system sends (emails, SMS, webhooks, PDFs, API `url` fields): one helper, from the URL
configuration, so a moved page cannot leave stale links in messages."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def absolute_url(name: str, *args: object, query: Mapping[str, object] | None = None) -> str:
    """`SITE_URL` + the path of the named URL, e.g. absolute_url("case", 12) -> http://host/cases/12.

    A list value in `query` repeats its parameter (`unit=A&unit=B`); None leaves the parameter out."""
    url = settings.SITE_URL.rstrip("/") + reverse(name, args=args)
    if query:
        url += "?" + urlencode({key: value for key, value in query.items() if value is not None}, doseq=True)
    return url
