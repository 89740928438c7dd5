"""One row per running worker, touched every round: readiness checks and metrics read its age."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    name = models.CharField(max_length=200, unique=True, help_text="host:process:thread of the worker")
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True, help_text="The last round the worker began (real clock)")

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return self.name
