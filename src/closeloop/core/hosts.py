"""Allow-lists of hosts a link may point to. Pure.

A survey tool or an API token sends `audio_url`, and closeloop puts it in front of its people: in alert
emails, chat messages and pages. A link there is trusted by whoever reads it, so only an `https` address
on a host the organisation listed becomes a link; anything else is shown as words. An entry is a host name
(`recordings.example.com`), optionally with a port (`media.example.com:8443`), or `*.example.com` for every
host below `example.com` (not `example.com` itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_ENTRY = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*(:\d{{1,5}})?")
HTTPS_PORT = 443


def host_problem(entry: str) -> str | None:
    """Why `entry` cannot be an allow-list entry, or None."""
    if not isinstance(entry, str) or not entry.strip():
        return "must be a host name such as recordings.example.com"
    text = entry.strip().lower()
    if "/" in text or "@" in text:
        return f"{entry!r} is not a host name: give the host only (recordings.example.com), no scheme or path"
    if not _ENTRY.fullmatch(text):
        return f"{entry!r} is not a host name (letters, digits, hyphens and dots; *.example.com for subdomains)"
    port = text.rpartition(":")[2] if ":" in text else ""
    if port and not 0 < int(port) < 65536:
        return f"{entry!r} has no valid port"
    return None


def normalise_hosts(entries: Iterable[str]) -> list[str]:
    """The entries lower-cased, stripped and without repeats, in their order (check them with host_problem)."""
    return list(dict.fromkeys(entry.strip().lower() for entry in entries))


def _matches(entry: str, host: str, port: int) -> bool:
    name, _, wanted_port = entry.partition(":")
    if port != (int(wanted_port) if wanted_port else HTTPS_PORT):
        return False
    if name.startswith("*."):
        return host.endswith(name[1:]) and host != name[2:]
    return host == name


def link_allowed(url: str, hosts: Iterable[str]) -> bool:
    """Whether `url` is an https address on one of `hosts` (allow-list entries), so it may become a link.

    An address with a user name or password in it (`https://trusted.example@evil.example/`) never is: it
    reads as one host and goes to another.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port or HTTPS_PORT
    except ValueError:
        return False
    if parts.scheme.lower() != "https" or not parts.hostname or "@" in parts.netloc:
        return False
    host = parts.hostname.lower().rstrip(".")
    return any(_matches(entry, host, port) for entry in normalise_hosts(hosts))


def defanged(url: str) -> str:
    """`url` written so that no mail or chat client turns it into a link (`https[:]//evil[.]example/x`),
    for an address shown as words: a reader can still see, and copy, where it goes."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        scheme, rest = "", scheme
    host, slash, path = rest.partition("/")
    shown = host.replace(".", "[.]") + slash + path
    return f"{scheme}[:]//{shown}" if scheme else shown


def origin_of(url: str) -> str:
    """The `https://host[:port]` origin of an allowed https address, written for a Content-Security-Policy
    source list, or "" when the address has no plain host name (nothing from it may reach the header)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() != "https" or "@" in parts.netloc or not _ENTRY.fullmatch(host) or host.startswith("*"):
        return ""
    return f"https://{host}" if port in (None, HTTPS_PORT) else f"https://{host}:{port}"
