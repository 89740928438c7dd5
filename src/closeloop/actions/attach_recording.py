"""Attach an interview's recording to a response: keep the file, and let alert messages that have not
left yet link to it, in one transaction."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from closeloop.alerts.planning import refresh_pending_messages
from closeloop.feedback.models import Response
from closeloop.feedback.recordings import HEAD_BYTES, attach, check_upload, remove_file, write_file


def attach_recording(response: Response, upload: UploadedFile) -> Response:
    """Keep `upload` as the response's recording (replacing an earlier one); RecordingRefused when it cannot
    be kept (no consent, too large, not audio). The file is written first and removed again if the
    transaction fails, so a recording is either attached and on disk or neither."""
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    content_type = check_upload(response, size=upload.size or 0, head=head)
    stored = write_file(response, upload.chunks(), content_type)
    try:
        with transaction.atomic():
            previous = attach(response, stored)
            refresh_pending_messages(response)
            if previous:
                transaction.on_commit(lambda: remove_file(previous))
    except BaseException:
        remove_file(stored.name)
        raise
    return response
