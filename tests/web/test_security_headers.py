"""The headers that keep customer data out of caches and scripts out of pages.

Each test fails without the header it is about: the Content-Security-Policy (django-csp), no-store on
dynamic responses, the request id.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from closeloop.cases.models import Case
from closeloop.feedback.models import Response
from tests.web.conftest import ingest

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "closeloop"


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_pages_carry_a_content_security_policy_that_allows_no_inline_script(erin: Client) -> None:
    ingest()
    for url in ("/", "/login/", f"/responses/{Response.objects.get().pk}", "/reports/"):
        policy = csp_directives(erin.get(url)["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
        # The report charts are SVG with a <style> inside: styles may be inline, scripts may not.
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"]


def test_media_plays_from_this_site_and_a_pages_own_recording_host_only(erin: Client) -> None:
    plain = ingest()
    assert csp_directives(erin.get(f"/responses/{plain.pk}")["Content-Security-Policy"])["media-src"] == ["'self'"]
    hosted = ingest(audio_url="https://recordings.example.com:443/88213.mp3")
    case = Case.objects.get(response=hosted)
    for url in (f"/responses/{hosted.pk}", f"/cases/{case.pk}", f"/recovery-notes?response={hosted.pk}"):
        response = erin.get(url)
        assert response.status_code == 200, url
        assert csp_directives(response["Content-Security-Policy"])["media-src"] == [
            "'self'",
            "https://recordings.example.com",
        ], url
    # A recording on a host the organisation did not list is shown as words, and adds nothing.
    elsewhere = ingest(audio_url="https://evil.example/88213.mp3")
    policy = csp_directives(erin.get(f"/responses/{elsewhere.pk}")["Content-Security-Policy"])
    assert policy["media-src"] == ["'self'"]


def test_the_api_docs_page_has_a_policy_too_and_loads_its_scripts_from_this_site(erin: Client) -> None:
    response = erin.get("/api/v1/docs")
    assert response.status_code == 200
    assert csp_directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]
    page = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("src=" in attributes or 'type="application/json"' in attributes for attributes in scripts)


def test_no_template_has_an_inline_script_or_an_event_handler_attribute() -> None:
    templates = list(TEMPLATES.glob("*/templates/**/*.html"))
    assert len(templates) > 20
    for template in templates:
        text = template.read_text()
        for attributes in re.findall(r"<script\b([^>]*)>", text):
            assert "src=" in attributes, f"{template}: an inline <script>"
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text), f"{template}: an on*= attribute"


@pytest.mark.django_db
def test_the_login_page_and_pages_behind_it_are_not_stored_by_any_cache(erin: Client) -> None:
    ingest()
    for url in ("/", "/responses/", f"/responses/{Response.objects.get().pk}", "/alerts/", "/reports/"):
        assert erin.get(url)["Cache-Control"] == "private, no-store", url
    # Django's login view marks itself never_cache, which says no-store too.
    login = {part.strip() for part in Client().get("/login/")["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= login


def test_api_answers_with_customer_data_are_not_stored(acme: None, api_as) -> None:
    ingest()
    client = api_as("read")
    listing = client.get("/api/v1/responses")
    assert listing.status_code == 200
    assert listing["Cache-Control"] == "private, no-store"
    one = client.get(f"/api/v1/responses/{Response.objects.get().pk}")
    assert one["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_static_files_keep_their_cache_lifetime() -> None:
    response = Client().get("/static/web/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_echoes_the_one_a_proxy_sent() -> None:
    mine = Client().get("/login/", headers={"X-Request-ID": "edge-42.a"})
    assert mine["X-Request-ID"] == "edge-42.a"
    generated = Client().get("/login/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # Anything that could break a log line is replaced.
    odd = Client().get("/login/", headers={"X-Request-ID": "bad id\twith spaces"})["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", odd)
