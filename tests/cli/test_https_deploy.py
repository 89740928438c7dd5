"""With an https SITE_URL behind a TLS proxy: Secure cookies, HSTS, a redirect for plain HTTP, and a
clean `closeloop check --deploy`. A real `closeloop run` answers requests as a proxy would send them."""

from __future__ import annotations

import http.client
import re
import secrets
import subprocess
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.processes import CLOSELOOP, closeloop_env, free_port, run_cli, stop, wait_for_http

SITE = "https://closeloop.example.com"
HTTPS = {"X-Forwarded-Proto": "https", "Host": "closeloop.example.com"}

CREATE_ADMIN = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser("operator", "ops@example.com", "a-long-operator-password")
"""


def request(port: int, method: str, path: str, headers: dict[str, str], body: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        reply.read()
        return reply
    finally:
        connection.close()


def set_cookies(reply) -> dict[str, str]:
    """Each Set-Cookie header by cookie name."""
    cookies = {}
    for header in reply.headers.get_all("Set-Cookie") or []:
        cookies[header.split("=", 1)[0]] = header
    return cookies


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory):
    env = closeloop_env(tmp_path_factory.mktemp("https"), SITE_URL=SITE, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    made = run_cli(env, "migrate", "--noinput")
    assert made.returncode == 0, made.stderr
    assert run_cli(env, "shell", "-c", CREATE_ADMIN).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [CLOSELOOP, "run", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server)
        yield port
    finally:
        stop(server)


def test_over_the_proxys_https_cookies_are_secure_and_hsts_is_sent(https_server: int) -> None:
    login = request(https_server, "GET", "/login/", HTTPS)
    assert login.status == 200
    assert login.headers["Strict-Transport-Security"] == "max-age=31536000"
    csrf_header = set_cookies(login)["csrftoken"]
    assert "; Secure" in csrf_header
    token = SimpleCookie(csrf_header)["csrftoken"].value

    form = urlencode({"username": "operator", "password": "a-long-operator-password", "csrfmiddlewaretoken": token})
    signed_in = request(
        https_server,
        "POST",
        "/login/",
        {
            **HTTPS,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={token}",
            "Referer": f"{SITE}/login/",
            "Origin": SITE,
        },
        form,
    )
    assert signed_in.status == 302
    session = set_cookies(signed_in)["sessionid"]
    assert "; Secure" in session and "; HttpOnly" in session


def test_plain_http_through_the_proxy_is_redirected_to_https_but_probes_are_not(https_server: int) -> None:
    plain = request(https_server, "GET", "/login/", {"X-Forwarded-Proto": "http", "Host": "closeloop.example.com"})
    assert (plain.status, plain.headers["Location"]) == (301, f"{SITE}/login/")
    assert request(https_server, "GET", "/healthz", {}).status == 200


@pytest.mark.parametrize("proxy_header", ["", "X-Forwarded-Proto"])
def test_check_deploy_is_clean_with_an_https_site_url_and_a_real_secret_key(tmp_path: Path, proxy_header: str) -> None:
    env = closeloop_env(
        tmp_path, SITE_URL=SITE, SECRET_KEY=secrets.token_urlsafe(50), SECURE_PROXY_SSL_HEADER=proxy_header
    )
    result = run_cli(env, "check", "--deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    clean = re.search(r"System check identified no issues \(\d+ silenced\)\.", result.stdout)
    assert clean, result.stdout + result.stderr


def test_check_deploy_reports_the_plain_http_defaults(tmp_path: Path) -> None:
    env = closeloop_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(50))
    result = run_cli(env, "check", "--deploy")
    # An http SITE_URL is for trying closeloop out: Django says what a deployment lacks.
    assert "security.W004" in result.stderr and "security.W012" in result.stderr
