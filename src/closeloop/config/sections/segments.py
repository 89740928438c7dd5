"""The `segments` section."""

from __future__ import annotations

from closeloop.config.sections.base import Section, keyed
from closeloop.config.validate import Config
from closeloop.org.models import Segment


def section(config: Config) -> Section:
    return keyed("segments", Segment, {code: {"position": i} for i, code in enumerate(config.segments)}, "code")


def export() -> list[str]:
    return list(Segment.objects.order_by("position", "code").values_list("code", flat=True))
