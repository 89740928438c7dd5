"""HTTP ingest throughput: wrk against `POST /api/v1/responses` and `POST /api/v1/responses/batch`.

wrk keeps 16 connections busy for BENCH_HTTP_SECONDS (default 15) per row, against:

- `closeloop run` (SQLite, web and worker in one process), single posts;
- `closeloop serve` + `closeloop worker` on SQLite, and on PostgreSQL, single posts;
- the batch endpoint, 100 responses a request, `serve` + worker on SQLite and on PostgreSQL;
- the ceiling, measured in the same run: a bare WSGI app (bench/bare_wsgi.py: parse the JSON body, answer
  201) under gunicorn with the 4 workers `closeloop serve` starts on this machine;
- a peer: Prometheus Alertmanager receiving single-alert POSTs to /api/v2/alerts, each alert with labels of
  its own (so each is a new alert, not an update).

Every request carries an external_id of its own (the wrk thread's number and a counter), so none is a replay;
one response in three is unhappy (an alert, a case and an email to the unit's lead, delivered by the worker to
a local SMTP sink), the others are quiet, as in the realistic import. After each closeloop row the servers are
stopped and the stored responses counted (`closeloop shell`), to check that every 201 wrk saw was stored:
nothing acknowledged is lost. Stored responses may exceed the 201s by what was in flight when wrk stopped
(at most one request per connection); fewer would be a loss.

Each closeloop row starts from a copy of one prepared CLOSELOOP_HOME (configuration applied, token made), on
PostgreSQL from a copy of one prepared database: rows do not inherit each other's rows or email backlog.
PostgreSQL is the server CLOSELOOP_TEST_POSTGRES names (default postgres://postgres@127.0.0.1:5432/postgres);
the bench creates its databases there and drops them. No server: those rows say so.

Needs `wrk` (Debian package `wrk`): without it the script says so and exits 2. Alertmanager is the Debian
package `prometheus-alertmanager`; without it its row says "not installed". `make bench` installs both with
apt-get when it runs as root and one is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from aiosmtpd.controller import Controller
from latency import CONFIG, free_port

SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", "10"))
CONNECTIONS = 16
WRK_THREADS = 2
SERVE_WORKERS = 4
BATCH = 100
HERE = Path(__file__).resolve().parent
CLI = Path(sys.executable).parent / "closeloop"
GUNICORN = Path(sys.executable).parent / "gunicorn"
ALERTMANAGER = "prometheus-alertmanager"
POSTGRES = os.environ.get("CLOSELOOP_TEST_POSTGRES") or "postgres://postgres@127.0.0.1:5432/postgres"


ALERTMANAGER_CONFIG = """
route:
  receiver: "null"
receivers:
  - name: "null"
"""

# One Lua state per wrk thread: setup() numbers the threads, request() builds each body afresh, response()
# counts what was acknowledged, done() (in wrk's main state) sums the threads and prints one JSON line.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  mode, prefix, size, token = args[1], args[2], tonumber(args[3]), args[4]
  n, acknowledged, items, other = 0, 0, 0, 0
  headers = {["Content-Type"] = "application/json"}
  if token ~= "-" then
    headers["Authorization"] = "Bearer " .. token
  end
end

local function item()
  n = n + 1
  local answers = '{"score": 9, "comment": "Quick and friendly."}'
  if n % 3 == 0 then
    answers = '{"score": 2, "comment": "Slow and unhelpful."}'
  end
  return '{"survey": "csat", "external_id": "' .. prefix .. "-" .. tid .. "-" .. n ..
    '", "unit": "DESK", "answers": ' .. answers .. "}"
end

function request()
  local body
  if mode == "alerts" then
    n = n + 1
    body = '[{"labels": {"alertname": "BenchAlert", "instance": "' .. prefix .. "-" .. tid .. "-" .. n ..
      '", "severity": "warning"}, "annotations": {"summary": "Slow and unhelpful."}}]'
  elseif mode == "batch" then
    local list = {}
    for i = 1, size do
      list[i] = item()
    end
    body = '{"items": [' .. table.concat(list, ", ") .. "]}"
  else
    body = item()
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    other = other + 1
  elseif mode == "batch" then
    acknowledged = acknowledged + 1
    local created = body:match('"created":%s*(%d+),%s*"replayed"')
    items = items + (tonumber(created) or 0)
  elseif (mode == "alerts" and status == 200) or status == 201 then
    acknowledged = acknowledged + 1
    items = items + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local acknowledged_, items_, other_ = 0, 0, 0
  for _, thread in ipairs(threads) do
    acknowledged_ = acknowledged_ + thread:get("acknowledged")
    items_ = items_ + thread:get("items")
    other_ = other_ + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status_errors": %d, "acknowledged": %d, "items": %d, "other": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), e.connect, e.read,
    e.write, e.timeout, e.status, acknowledged_, items_, other_))
end
"""


@dataclass
class Row:
    label: str
    kind: str  # "single", "batch", "ceiling" or "peer"
    command: str = "serve"  # a closeloop row's server: `run` (with its worker inside) or `serve` + `worker`
    result: dict[str, float] = field(default_factory=dict)
    note: str = ""  # why there is no figure
    stored: int | None = None

    @property
    def requests_per_second(self) -> float:
        return self.result["requests"] / self.result["seconds"]

    @property
    def items_per_second(self) -> float:
        # Only what was acknowledged: a batch's created responses, the alerts Alertmanager took.
        return self.result["items"] / self.result["seconds"]


def wait_until_serving(url: str, processes: list[subprocess.Popen]) -> None:
    # Up to a minute: on busy cores a start (migration check, the text model's package looked up) takes a while.
    for _ in range(600):
        if any(process.poll() is not None for process in processes):
            raise RuntimeError(f"a server exited before serving {url}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing served {url} within a minute")


def start(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for command in commands
    ]


def stop(processes: list[subprocess.Popen]) -> None:
    # SIGTERM, then wait: what a server still had in hand is committed or rolled back before the count.
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrk(url: str, script: Path, mode: str, prefix: str, token: str = "-") -> dict[str, float]:
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--latency",
        # A batch on a busy SQLite file waits for the write lock: a timeout would count as an error while the
        # server still commits it.
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
        "--",
        mode,
        prefix,
        str(BATCH),
        token,
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    match = re.search(r"^RESULT (\{.*\})$", run.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{run.stdout}\n{run.stderr}")
    return json.loads(match.group(1))


def post(port: int, token: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/responses",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=60):
        pass


def warm_up(port: int, token: str, prefix: str) -> None:
    """A few posts before the clock starts, so that every gunicorn worker has answered once (imports done)."""
    for n in range(2 * SERVE_WORKERS):
        post(port, token, {"survey": "csat", "external_id": f"{prefix}-{n}", "unit": "DESK", "answers": {"score": 9}})


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run([str(CLI), *args], env=env, check=True, capture_output=True, text=True).stdout


def stored(env: dict[str, str], prefix: str) -> int:
    code = (
        "from closeloop.feedback.models import Response; "
        f"print(Response.objects.filter(external_id__startswith={prefix + '-'!r}).count())"
    )
    return int(cli(env, "shell", "-c", code).split()[-1])


def admin(statement: str) -> None:
    import psycopg

    parts = urlsplit(POSTGRES)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(statement)


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{name}"))


def prepare(home: Path, env: dict[str, str]) -> str:
    """Apply the configuration and make a token that may ingest; returns the token."""
    home.mkdir()
    (home / "bench.yaml").write_text(CONFIG)
    cli(env, "config", "apply", str(home / "bench.yaml"))
    made = cli(env, "token", "create", "--name", "bench", "--scopes", "ingest")
    return re.search(r"cl_[A-Za-z0-9_\-]+", made).group(0)


def closeloop_row(row: Row, number: int, template: Path, env: dict[str, str], token: str, script: Path) -> None:
    """One closeloop row on a copy of the prepared home (and of the prepared database, on PostgreSQL)."""
    home = template.parent / f"row{number}"
    shutil.copytree(template, home)
    env = {**env, "CLOSELOOP_HOME": str(home)}
    database = None
    if "DATABASE_URL" in env:
        database = f"{urlsplit(env['DATABASE_URL']).path.lstrip('/')}_row{number}"
        admin(f'CREATE DATABASE "{database}" TEMPLATE "{urlsplit(env["DATABASE_URL"]).path.lstrip("/")}"')
        env["DATABASE_URL"] = database_url(database)
    port = free_port()
    env["SITE_URL"] = f"http://127.0.0.1:{port}"
    if row.command == "run":
        commands = [[str(CLI), "run", "--port", str(port)]]
    else:
        commands = [[str(CLI), "serve", "--workers", str(SERVE_WORKERS), "--port", str(port)], [str(CLI), "worker"]]
    prefix = f"r{number}"
    try:
        processes = start(commands, env)
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/api/v1/openapi.json", processes)
            warm_up(port, token, f"w{number}")
            path = "/api/v1/responses/batch" if row.kind == "batch" else "/api/v1/responses"
            row.result = wrk(f"http://127.0.0.1:{port}{path}", script, row.kind, prefix, token)
        finally:
            stop(processes)
        row.stored = stored(env, prefix)
    finally:
        if database:
            admin(f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(home, ignore_errors=True)


def ceiling_row(row: Row, script: Path, tmp: Path) -> None:
    port = free_port()
    command = [
        str(GUNICORN),
        "--workers",
        str(SERVE_WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(HERE),
        "--log-level",
        "warning",
        "bare_wsgi:app",
    ]
    processes = start([command], dict(os.environ))
    try:
        # The bare app answers any request, a GET with no body included (an empty body is no JSON: a 500).
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        row.result = wrk(f"http://127.0.0.1:{port}/api/v1/responses", script, "single", "ceiling")
    finally:
        stop(processes)


def peer_row(row: Row, script: Path, tmp: Path) -> None:
    if shutil.which(ALERTMANAGER) is None:
        row.note = "not installed (Debian package `prometheus-alertmanager`)"
        return
    (tmp / "alertmanager.yml").write_text(ALERTMANAGER_CONFIG)
    (tmp / "alertmanager").mkdir()
    port = free_port()
    command = [
        ALERTMANAGER,
        f"--config.file={tmp / 'alertmanager.yml'}",
        f"--storage.path={tmp / 'alertmanager'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # A single instance: no gossip port, no waiting for peers.
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    processes = start([command], dict(os.environ))
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/-/ready", processes)
        row.result = wrk(f"http://127.0.0.1:{port}/api/v2/alerts", script, "alerts", "peer")
    finally:
        stop(processes)


def postgres_available() -> str:
    """Why PostgreSQL rows cannot run, or "" when they can."""
    try:
        admin("SELECT 1")
    except Exception as error:  # any failure to reach the server only skips its rows
        return f"no PostgreSQL server at {urlsplit(POSTGRES).netloc} ({type(error).__name__})"
    return ""


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench/http_ingest.py needs wrk: apt-get install wrk (make bench does so as root)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="closeloop-bench-http-"))
    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SMS_URL")}
    env.update(EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}", CLOSELOOP_LOG_LEVEL="WARNING")
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    ceiling = Row("ceiling: bare WSGI (JSON parse + 201), gunicorn, 4 workers", "ceiling")
    peer = Row("peer: Prometheus Alertmanager, single-alert POSTs to `/api/v2/alerts`", "peer")
    sqlite_rows = [
        Row("`closeloop run` (SQLite)", "single", "run"),
        Row("`closeloop serve` + `closeloop worker`, SQLite", "single"),
        Row(f"batch of {BATCH}: `closeloop serve` + worker, SQLite", "batch"),
    ]
    postgres_rows = [
        Row("`closeloop serve` + `closeloop worker`, PostgreSQL", "single"),
        Row(f"batch of {BATCH}: `closeloop serve` + worker, PostgreSQL", "batch"),
    ]
    loads = [os.getloadavg()[0]]
    template_db = f"closeloop_bench_http_{os.getpid()}"
    made_template = False
    try:
        ceiling_row(ceiling, script, tmp)
        peer_row(peer, script, tmp)
        home = tmp / "sqlite"
        sqlite_env = {**env, "CLOSELOOP_HOME": str(home)}
        token = prepare(home, sqlite_env)
        for number, row in enumerate(sqlite_rows, start=1):
            closeloop_row(row, number, home, sqlite_env, token, script)
        why_not = postgres_available()
        if why_not:
            for row in postgres_rows:
                row.note = why_not
        else:
            admin(f'DROP DATABASE IF EXISTS "{template_db}"')
            admin(f'CREATE DATABASE "{template_db}"')
            made_template = True
            home = tmp / "postgres"
            postgres_env = {**env, "CLOSELOOP_HOME": str(home), "DATABASE_URL": database_url(template_db)}
            token = prepare(home, postgres_env)
            for number, row in enumerate(postgres_rows, start=len(sqlite_rows) + 1):
                closeloop_row(row, number, home, postgres_env, token, script)
    finally:
        smtp.stop()
        if made_template:
            admin(f'DROP DATABASE IF EXISTS "{template_db}"')
        shutil.rmtree(tmp, ignore_errors=True)
    loads.append(os.getloadavg()[0])
    report(ceiling, peer, sqlite_rows[:2] + postgres_rows[:1] + sqlite_rows[2:] + postgres_rows[1:], loads)
    return 0


class Sink:
    """Accepts the alert emails the worker sends; the bench measures HTTP, not delivery."""

    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def report(ceiling: Row, peer: Row, rows: list[Row], loads: list[float]) -> None:
    bare = ceiling.requests_per_second
    alerts = peer.items_per_second if peer.result else None

    def ms(microseconds: float) -> str:
        return f"{microseconds / 1000:.1f} ms" if microseconds < 10_000 else f"{microseconds / 1000:.0f} ms"

    def errors(result: dict[str, float]) -> str:
        kinds = ("connect", "read", "write", "timeout")
        found = [f"{result[kind]} {kind}" for kind in kinds if result[kind]]
        return ", ".join(found) or "0"

    def share(row: Row) -> str:
        if row.kind in ("single", "ceiling"):
            return f"{row.requests_per_second / bare:.0%} of bare WSGI"
        if row.kind == "batch" and alerts:
            return f"{row.items_per_second / alerts:.2f}x Alertmanager"
        return "-"

    def kept(row: Row) -> str:
        if row.stored is None:
            return ""
        acknowledged = int(row.result["items"])
        if row.stored < acknowledged:
            return f"**{acknowledged - row.stored} lost**: {row.stored} stored, {acknowledged} acknowledged"
        extra = row.stored - acknowledged
        return f"{row.stored} = {acknowledged}" + (f" + {extra} in flight at the end" if extra else "")

    print(f"## HTTP ingest throughput (wrk, {CONNECTIONS} connections)\n")
    print(
        f"`bench/http_ingest.py`: wrk with {CONNECTIONS} connections ({WRK_THREADS} threads) for {SECONDS} s per row,"
        " every request an external_id of its own, one response in three unhappy (alert, case, email to the lead via"
        f" the worker) and the rest quiet; `closeloop serve` with {SERVE_WORKERS} gunicorn workers. A batch is"
        f" `POST /api/v1/responses/batch` with {BATCH} responses. Ceiling and peer measured in the same run:"
        f" bench/bare_wsgi.py under gunicorn with {SERVE_WORKERS} workers, and Prometheus Alertmanager taking"
        " single-alert POSTs (each alert labels of its own, a null receiver). *stored = acknowledged*: responses"
        " counted in the database after the servers stopped against the 201s (a batch: its `created`) wrk saw;"
        " more may be stored than acknowledged by what was in flight when wrk stopped, never fewer.\n"
    )
    print(
        "| set-up | requests/s | responses/s | p50 | p99 | non-2xx | errors/timeouts | share of the ceiling"
        " | stored = acknowledged |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in [*rows, ceiling, peer]:
        if not row.result:
            print(f"| {row.label} | {row.note} | | | | | | | |")
            continue
        result = row.result
        per_second = f"{row.items_per_second:.0f}" if row.kind != "ceiling" else "-"
        if row.kind == "peer":
            per_second += " alerts/s"
        print(
            f"| {row.label} | {row.requests_per_second:.0f} | {per_second} | {ms(result['p50_us'])} |"
            f" {ms(result['p99_us'])} | {int(result['other'])} | {errors(result)} | {share(row)} | {kept(row)} |"
        )
    print(
        "\nTarget: single posts >= 10 % of the bare-WSGI ceiling; the batch endpoint >= 0.3x Alertmanager's"
        " alerts/s, in responses/s.\n"
    )
    for row in rows:
        if not row.result:
            print(f"- {row.label}: not measured ({row.note})")
        elif row.kind == "single":
            met = row.requests_per_second >= 0.1 * bare
            print(f"- {row.label}: {row.requests_per_second / bare:.0%} of bare WSGI: {'met' if met else 'NOT met'}")
        elif alerts:
            met = row.items_per_second >= 0.3 * alerts
            print(f"- {row.label}: {row.items_per_second / alerts:.2f}x Alertmanager: {'met' if met else 'NOT met'}")
        else:
            print(f"- {row.label}: no Alertmanager figure to compare with ({peer.note})")
    lost = [row.label for row in rows if row.stored is not None and row.stored < row.result["items"]]
    print(f"- nothing acknowledged lost: {'yes' if not lost else 'NO, in ' + '; '.join(lost)}\n")
    print(
        f"Load average (1 min) before and after: {loads[0]:.1f} and {loads[1]:.1f}, on {os.cpu_count()} cores "
        "(wrk shares the cores with the server it measures, and other work on the machine slows every row; "
        "compare rows of one run).\n"
    )


if __name__ == "__main__":
    sys.exit(main())
