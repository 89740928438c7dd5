"""Native receivers for survey and helpdesk tools: a tool's request (or export) in, ingest items out.

Pure: no Django and nothing of closeloop beyond `closeloop.core`, so every tool is tested
without a database. The receiving endpoint does, for one request to `POST /hooks/<key>`:

    source = <the SourceSpec with that key>            # load_source(yaml_entry)
    inbound = Inbound.build(request.body, request.headers.items(), query=request.GET, received_at=now)
    translation = receive(inbound, source, survey=Survey(key, questions, overall), now=now)
    # -> ingest translation.items (item.body, keeping item.problems with each response)

and answers every ConnectorError with `exc.status` and `exc.reason`.
"""

from __future__ import annotations

from datetime import datetime

from closeloop.connectors import http, registry
from closeloop.connectors.base import Connector, Fetch, Translation
from closeloop.connectors.errors import (
    ConnectorError,
    FetchFailed,
    Ignored,
    PayloadUnreadable,
    SignatureInvalid,
    StaleTimestamp,
)
from closeloop.connectors.inbound import Headers, Inbound
from closeloop.connectors.mapping import Item
from closeloop.connectors.qualtrics import ExportRow, QualtricsExport
from closeloop.connectors.spec import SecretUnavailable, SourceInvalid, SourceSpec, load_source
from closeloop.connectors.survey import Survey


def receive(
    inbound: Inbound, source: SourceSpec, *, survey: Survey, now: datetime, fetch: Fetch = http.fetch
) -> Translation:
    """Verify the request, then translate it: the whole job of the receiving endpoint's connector part."""
    connector = source.connector
    connector.verify(inbound, source, now)
    return connector.translate(inbound, source, survey=survey, fetch=fetch)


__all__ = [
    "Connector",
    "ConnectorError",
    "ExportRow",
    "Fetch",
    "FetchFailed",
    "Headers",
    "Ignored",
    "Inbound",
    "Item",
    "PayloadUnreadable",
    "QualtricsExport",
    "SecretUnavailable",
    "SignatureInvalid",
    "SourceInvalid",
    "SourceSpec",
    "StaleTimestamp",
    "Survey",
    "Translation",
    "http",
    "load_source",
    "receive",
    "registry",
]
