"""`closeloop token create|list|revoke`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from closeloop.api.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db

CLI = Path(sys.executable).parent / "closeloop"


def run_token(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_prints_the_token_once_and_stores_only_its_hash(org):
    secret, advice = run_token("create", "--name", "survey-tool", "--scopes", "ingest,read")
    assert secret.startswith("cl_") and "\n" not in secret
    stored = ApiToken.objects.get(name="survey-tool")
    assert stored.token_hash == hash_token(secret)
    assert secret not in {stored.token_hash, stored.hint, stored.name}
    assert stored.scopes == ["ingest", "read"]
    assert stored.person is None
    assert "only this once" in advice


def test_the_created_token_works_against_the_api(org):
    secret, _ = run_token("create", "--name", "reader", "--scopes", "read")
    assert Client().get("/api/v1/responses", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_create_for_a_person(org):
    run_token("create", "--name", "erin-phone", "--scopes", "read, write", "--person", "erin")
    stored = ApiToken.objects.get(name="erin-phone")
    assert stored.person == org["people"]["erin"]
    assert stored.scopes == ["read", "write"]


def test_an_unknown_scope_exits_2_naming_it(org):
    with pytest.raises(CommandError, match="'admin'") as caught:
        run_token("create", "--name", "x", "--scopes", "read,admin")
    assert caught.value.returncode == 2
    assert not ApiToken.objects.exists()


def test_no_scope_at_all_exits_2(org):
    with pytest.raises(CommandError, match="at least one") as caught:
        run_token("create", "--name", "x", "--scopes", " , ")
    assert caught.value.returncode == 2


def test_an_unknown_person_exits_2_naming_them(org):
    with pytest.raises(CommandError, match="'ghost'") as caught:
        run_token("create", "--name", "x", "--scopes", "read", "--person", "ghost")
    assert caught.value.returncode == 2
    assert not ApiToken.objects.exists()


def test_a_second_active_token_with_the_same_name_is_refused(org):
    run_token("create", "--name", "tool", "--scopes", "read")
    with pytest.raises(CommandError, match="revoke it first") as caught:
        run_token("create", "--name", "tool", "--scopes", "read")
    assert caught.value.returncode == 2


def test_list_shows_tokens_without_their_secret(org):
    secret, _ = run_token("create", "--name", "survey-tool", "--scopes", "ingest", "--person", "erin")
    listing, _ = run_token("list")
    assert "survey-tool" in listing and "ingest" in listing and "erin" in listing and "active" in listing
    assert secret not in listing


def test_create_limited_to_units_and_list_shows_them(org):
    secret, advice = run_token("create", "--name", "emea-tool", "--scopes", "ingest", "--units", "SUP-EMEA, SUP-UK")
    assert ApiToken.objects.get(name="emea-tool").units == ["SUP-EMEA", "SUP-UK"]
    assert "limited to SUP-EMEA,SUP-UK" in advice
    run_token("create", "--name", "everything", "--scopes", "ingest")
    assert ApiToken.objects.get(name="everything").units == []
    listing, _ = run_token("list")
    assert "SUP-EMEA,SUP-UK" in next(line for line in listing.splitlines() if line.startswith("emea-tool"))
    assert " all " in next(line for line in listing.splitlines() if line.startswith("everything"))
    refused = Client().post(
        "/api/v1/responses",
        '{"survey": "upgrade-install", "external_id": "x", "unit": "SUP-AMER", "answers": {}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert refused.status_code == 403 and refused.json()["errors"][0]["loc"] == ["unit"]


@pytest.mark.parametrize("units", ["SUP-EMEA,ATLANTIS", " , "], ids=["unknown", "empty"])
def test_unknown_or_no_units_exit_2_naming_them(org, units):
    with pytest.raises(CommandError, match="--units") as caught:
        run_token("create", "--name", "x", "--scopes", "ingest", "--units", units)
    assert caught.value.returncode == 2
    assert "ATLANTIS" in str(caught.value) or "at least one" in str(caught.value)
    assert not ApiToken.objects.exists()


def test_revoke_stops_the_token_and_frees_its_name(org):
    secret, _ = run_token("create", "--name", "old", "--scopes", "read")
    out, _ = run_token("revoke", "--name", "old")
    assert "Revoked" in out
    assert Client().get("/api/v1/responses", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    listing, _ = run_token("list")
    assert "revoked" in listing
    run_token("create", "--name", "old", "--scopes", "read")


def test_revoking_an_unknown_name_exits_2(org):
    with pytest.raises(CommandError, match="no active token named 'nope'") as caught:
        run_token("revoke", "--name", "nope")
    assert caught.value.returncode == 2


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    env["CLOSELOOP_HOME"] = str(home)
    return subprocess.run([str(CLI), *args], cwd=home, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not CLI.exists(), reason="the `closeloop` script is installed by `make install`")
def test_the_real_cli_creates_a_token_and_refuses_unknown_scopes(tmp_path):
    assert cli(tmp_path, "migrate", "--noinput").returncode == 0
    created = cli(tmp_path, "token", "create", "--name", "cli-check", "--scopes", "ingest,read")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("cl_")
    database = sqlite3.connect(tmp_path / "closeloop.sqlite3")
    try:
        rows = database.execute("SELECT token_hash, scopes FROM api_apitoken WHERE name = 'cli-check'").fetchall()
    finally:
        database.close()
    assert rows == [(hash_token(secret), '["ingest", "read"]')]
    refused = cli(tmp_path, "token", "create", "--name", "bad", "--scopes", "ingest,superuser")
    assert refused.returncode == 2
    assert "superuser" in refused.stderr


def test_the_admin_lists_tokens_and_revokes_them(org, admin_client):
    secret, _ = run_token("create", "--name", "leaky", "--scopes", "read")
    token = ApiToken.objects.get(name="leaky")
    listing = admin_client.get("/admin/api/apitoken/")
    assert listing.status_code == 200
    assert "leaky" in listing.content.decode() and secret not in listing.content.decode()
    admin_client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/v1/responses", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
