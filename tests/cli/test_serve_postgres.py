"""`closeloop serve` on PostgreSQL answers its very first requests, however many arrive at once.

The master process checks for migrations before forking its workers; a connection it kept open
would be shared by every worker, and their queries would corrupt each other's conversations.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests import factories
from tests.processes import (
    CLOSELOOP,
    closeloop_env,
    free_port,
    fresh_postgres_database,
    run_cli,
    stop,
    wait_for_port,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
POSTS = 60


def post_response(port: int, token: str, number: int) -> int:
    # A content customer: the post stores a response and nothing else.
    body = factories.response_body(
        {"ease": 9, "completed": True}, external_id=f"first-{number}", submitted_at=None, ticket=None, agent=None
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/responses",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        # A worker whose database conversation was corrupted may never answer.
        return 0


@pytest.mark.postgres
def test_serve_stores_every_one_of_sixty_posts_sent_at_once_right_after_it_starts(tmp_path: Path) -> None:
    with fresh_postgres_database("serve") as database_url:
        env = closeloop_env(tmp_path, database_url)
        applied = run_cli(env, "config", "apply", str(FIXTURES / "acme.yaml"))
        assert applied.returncode == 0, applied.stderr
        created = run_cli(env, "token", "create", "--name", "first-posts", "--scopes", "ingest")
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        port = free_port()
        server = subprocess.Popen(
            [CLOSELOOP, "serve", "--port", str(port), "--workers", "4"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_port(port, server)
            with ThreadPoolExecutor(max_workers=POSTS) as pool:
                statuses = list(pool.map(lambda n: post_response(port, token, n), range(POSTS)))
        finally:
            output = stop(server)
        assert statuses == [201] * POSTS, output[-3000:]
        with psycopg.connect(database_url) as db:
            stored = db.execute("select count(*) from feedback_response where external_id like 'first-%%'").fetchone()
        assert stored == (POSTS,)
