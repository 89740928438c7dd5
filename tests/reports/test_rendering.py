"""The PDF never reaches the network, and what customers write cannot change the report's markup."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime

import pytest
from weasyprint import HTML

from closeloop.reports.on_demand import report_for_day
from closeloop.reports.service_report import inline_only_fetcher, render_pdf
from tests.reports.conftest import pdf_links, pdf_text, unhappy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["http://example.com/logo.png", "https://cdn.example/x.css", "file:///etc/passwd"])
def test_the_renderer_refuses_anything_but_inline_resources(url):
    with pytest.raises(ValueError, match="disallowed protocol"):
        inline_only_fetcher().fetch(url)


def test_an_inline_image_still_renders():
    pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    html = HTML(string=f'<img src="{pixel}">', url_fetcher=inline_only_fetcher())
    assert html.write_pdf().startswith(b"%PDF")


def test_customer_text_is_shown_as_text_not_markup(acme):
    from closeloop.org.models import Unit

    comment = '<img src="http://tracker.example/p.gif"> <a href="http://evil.example">click</a>'
    unhappy(datetime(2026, 11, 23, 10, tzinfo=UTC), comment=comment)
    pdf = render_pdf(report_for_day(Unit.objects.get(code="SUP-EMEA"), date(2026, 11, 24)))
    assert "click" in pdf_text(pdf) and "tracker.example" in pdf_text(pdf)
    assert not any("evil.example" in link for link in pdf_links(pdf))


def test_rendering_makes_no_network_request():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        html = f'<link rel="stylesheet" href="{base}/s.css"><img src="{base}/logo.png"><p>Report</p>'
        assert HTML(string=html, url_fetcher=inline_only_fetcher()).write_pdf().startswith(b"%PDF")
        # A connection attempt would be waiting in the backlog.
        with pytest.raises(TimeoutError):
            listener.accept()
