"""Every outgoing message is a template set: `messages/<name>/subject.txt`, `body.txt` and, when the
message has one, `body.html`. One function renders them, so every message looks and escapes the same way.

Text templates start with `{% autoescape off %}`: they are plain text, and HTML escaping would put
`&amp;` into a customer's words. The HTML template is escaped as usual.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str = ""


@functools.cache
def _has_html(name: str) -> bool:
    try:
        get_template(f"messages/{name}/body.html")
    except TemplateDoesNotExist:
        return False
    return True


def make_message(name: str, context: Mapping[str, Any]) -> Message:
    """Render the message called `name`; the subject is one line, the text ends with one newline."""
    subject = " ".join(render_to_string(f"messages/{name}/subject.txt", dict(context)).split())
    text = render_to_string(f"messages/{name}/body.txt", dict(context)).strip() + "\n"
    html = render_to_string(f"messages/{name}/body.html", dict(context)) if _has_html(name) else ""
    return Message(subject=subject, text=text, html=html)
