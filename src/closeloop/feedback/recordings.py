"""Interview recordings uploaded for a response: kept as files under `$CLOSELOOP_HOME/audio/`, owner-only.

A recording identifies the customer, so it is kept only while the customer agrees to be contacted and is
never served to the world: the response page plays it through a view that checks the viewer may see the
response, and alert emails carry a signed link (django.core.signing) that expires. Its type is read from
its first bytes (the `filetype` package), never from the file name or the sender's Content-Type.

`delete_recording` removes the file and forgets it; deleting a customer's personal data calls it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import filetype
from django.conf import settings
from django.core import signing
from django.db import transaction

from closeloop.feedback.models import Response

# What an upload may be, by the type its content shows, and the file name extension it is kept with.
AUDIO_TYPES: dict[str, str] = {
    "audio/mpeg": "mp3",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
}
ACCEPTED = "mp3, wav, ogg or m4a"
# Enough of the file for every signature the accepted types have.
HEAD_BYTES = 262

# A link in an alert email works this long: a week covers the case's usual life without leaving a
# working link to a customer's voice in a mailbox for ever. The response page keeps playing it.
LINK_MAX_AGE = timedelta(days=7)
_SALT = "closeloop.feedback.recording"


class RecordingRefused(Exception):
    """An upload that cannot be kept; `status` is the HTTP answer (409, 413, 422), `field` what is wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


def audio_folder() -> Path:
    """`$CLOSELOOP_HOME/audio`, created readable by the owner only."""
    folder = Path(settings.CLOSELOOP_HOME) / "audio"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def max_bytes() -> int:
    return int(settings.CLOSELOOP_AUDIO_MAX_BYTES)


def audio_type_of(head: bytes) -> str | None:
    """The accepted audio type whose signature `head` (the first bytes of a file) carries, or None."""
    kind = filetype.audio_match(bytearray(head))
    if kind is None or kind.mime not in AUDIO_TYPES:
        return None
    return str(kind.mime)


@dataclass(frozen=True)
class StoredFile:
    name: str  # inside audio_folder()
    content_type: str


def check_upload(response: Response, *, size: int, head: bytes) -> str:
    """The upload's audio type, or RecordingRefused saying why it cannot be kept for this response."""
    if response.customer_id is None or not response.contact_ok:
        raise RecordingRefused(
            409,
            "audio",
            "the customer has not agreed to be contacted (customer.contact_ok is false): their recording is not kept",
        )
    if size > max_bytes():
        raise RecordingRefused(413, "audio", f"the file is {size} bytes; the limit is {max_bytes()} bytes")
    if size == 0:
        raise RecordingRefused(422, "audio", "the file is empty")
    content_type = audio_type_of(head)
    if content_type is None:
        found = filetype.guess(bytearray(head))
        seen = f" (it looks like {found.mime})" if found is not None else ""
        raise RecordingRefused(422, "audio", f"not an audio file of the accepted types, {ACCEPTED}{seen}")
    return content_type


def write_file(response: Response, chunks: Iterable[bytes], content_type: str) -> StoredFile:
    """Write the recording to a new owner-only file; the response row is not changed here."""
    name = f"{response.pk}-{secrets.token_hex(8)}.{AUDIO_TYPES[content_type]}"
    path = audio_folder() / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredFile(name, content_type)


def remove_file(name: str) -> None:
    if name and "/" not in name and name not in (".", ".."):
        (audio_folder() / name).unlink(missing_ok=True)


def attach(response: Response, stored: StoredFile) -> str:
    """Record `stored` as the response's recording; returns the name of the file it replaces ("" if none).
    Call inside a transaction, and remove the old file once it commits."""
    locked = Response.objects.select_for_update().get(pk=response.pk)
    previous = locked.audio_file
    Response.objects.filter(pk=response.pk).update(audio_file=stored.name, audio_type=stored.content_type)
    response.audio_file, response.audio_type = stored.name, stored.content_type
    return previous


def has_recording(response: Response) -> bool:
    return bool(response.audio_file)


def recording_path(response: Response) -> Path | None:
    """The file of the response's uploaded recording, if there is one on disk."""
    if not has_recording(response):
        return None
    path = audio_folder() / response.audio_file
    return path if path.is_file() else None


def may_play(response: Response) -> bool:
    """Whether the recording may be played now: it exists and the customer still agrees."""
    return response.customer_id is not None and response.contact_ok and recording_path(response) is not None


def delete_recording(response: Response) -> bool:
    """Remove the response's uploaded recording and forget it (and the address of one hosted elsewhere).

    For deleting a customer's personal data; returns whether there was anything to remove.
    """
    had = bool(response.audio_file or response.audio_url)
    name = response.audio_file
    Response.objects.filter(pk=response.pk).update(audio_file="", audio_type="", audio_url="")
    response.audio_file, response.audio_type, response.audio_url = "", "", ""
    if name:
        # The file goes once the rows that name it are gone for good: a rolled-back erase keeps both.
        transaction.on_commit(lambda: remove_file(name))
    return had


def recording_token(response_id: int, person_key: str) -> str:
    """A signed, timestamped token for one response's recording and one recipient (empty for a webhook)."""
    return signing.dumps({"r": response_id, "p": person_key}, salt=_SALT, compress=False)


def read_recording_token(token: str, *, max_age: timedelta = LINK_MAX_AGE) -> int | None:
    """The response id the token was made for, or None when it is forged, altered or expired."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    response_id = data.get("r") if isinstance(data, dict) else None
    return response_id if isinstance(response_id, int) else None
