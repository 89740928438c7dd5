"""Where links point when SITE_URL is not set: at the address this process serves."""

from __future__ import annotations

import os

from django.conf import settings

# Listening on every interface is not an address a browser can open; links use this machine's loopback.
ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


def link_base(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ANY_ADDRESS else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


def use_served_address(host: str, port: int) -> None:
    """Without SITE_URL in the environment, every link (emails, SMS, the printed login) names `host:port`."""
    if "SITE_URL" not in os.environ:
        settings.SITE_URL = link_base(host, port)
