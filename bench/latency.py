"""End-to-end alert latency: POST of an unhappy response -> alert email accepted by an SMTP server.

Starts `closeloop run` (SQLite, web + worker in one process) against a local aiosmtpd sink,
posts responses at a fixed rate for SECONDS seconds and reports p50/p99 from the start of each
POST to the moment the SMTP server accepted its email; then the same at the target rate with
`closeloop serve` and a separate `closeloop worker` on the same SQLite file. The ceilings, measured in the same run:
the POST round trip alone (what the web process costs) and a direct smtplib send to the same
sink (what SMTP costs). Prints a Markdown section.

With a `{text: unhappy}` rule on, the same with posts whose middling score leaves the decision to the text
model: every post judged (each with words of its own, so the model's cache does not help), and a mix in
which one post in five is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
RUN = [["run"]]
SERVE = [["serve", "--workers", "2"], ["worker"]]
# (label, commands, rate, posts): the embedded process at rising rates, then the scaled set-up at the target
# rate; then with the text rule. posts: "low" every post a low score (no text judged), "judged" every post a
# middling score with a complaint of its own (each judged by the model), "mixed" one in five judged.
SCENARIOS = [
    ("`closeloop run`", RUN, 10, "low"),
    ("`closeloop run`", RUN, 25, "low"),
    ("`closeloop run`", RUN, 50, "low"),
    ("`closeloop serve --workers 2` + `closeloop worker`", SERVE, 50, "low"),
    ("`closeloop run`", RUN, 100, "low"),
    ("`closeloop serve --workers 2` + `closeloop worker`", SERVE, 100, "low"),
    ("`closeloop run`, text rule, every post judged", RUN, 10, "judged"),
    ("`closeloop run`, text rule, every post judged", RUN, 25, "judged"),
    ("`closeloop run`, text rule, every post judged", RUN, 50, "judged"),
    ("`closeloop run`, text rule, one post in five judged", RUN, 25, "mixed"),
    ("`closeloop run`, text rule, one post in five judged", RUN, 50, "mixed"),
    ("`closeloop serve --workers 2` + worker, text rule, one in five judged", SERVE, 50, "mixed"),
]
if os.environ.get("BENCH_LATENCY_ONLY"):
    # e.g. BENCH_LATENCY_ONLY=judged,mixed: only the scenarios of those kinds of posts.
    SCENARIOS = [s for s in SCENARIOS if s[3] in os.environ["BENCH_LATENCY_ONLY"].split(",")]
if os.environ.get("BENCH_LATENCY_RATES"):
    # e.g. BENCH_LATENCY_RATES=100: only the scenarios at those rates.
    SCENARIOS = [s for s in SCENARIOS if str(s[2]) in os.environ["BENCH_LATENCY_RATES"].split(",")]
# Complaints in the model's four languages; each post adds its own number, so no two texts are the same.
COMPLAINTS = [
    "Nobody called me back about case {n} and I am still waiting.",
    "Personne ne m'a rappelé pour le dossier {n}, j'attends toujours.",
    "Nadie me llamó por el caso {n} y sigo esperando.",
    "Wegen Fall {n} hat mich niemand zurückgerufen, ich warte immer noch.",
]
CLI = Path(sys.executable).parent / "closeloop"

CONFIG = """
organization: {name: Bench, time_zone: UTC, recovery_threshold: 6}
units: [{code: HQ, name: HQ, children: [{code: DESK, name: Help desk}]}]
people: [{id: lead, name: Lee Lead, email: lead@bench.example, roles: [{unit: DESK, role: lead}]}]
surveys:
  - key: csat
    name: CSAT
    overall: score
    questions:
      - {key: score, type: scale, min: 1, max: 10}
      - {key: comment, type: text}
rules:
  - key: unhappy
    name: Unhappy
    kind: recovery
    when: {overall: {lte: 6}}
    category: Low score
    severity: normal
    notify: {to: [unit_leads], channels: {normal: [email]}, mode: immediate}
"""
TEXT_RULE = """
  - key: unhappy-words
    name: Sounds unhappy despite a middling score
    kind: recovery
    when: {all: [{overall: {gte: 5, lte: 8}}, {text: unhappy}]}
    category: Unhappy in their own words
    severity: normal
    notify: {to: [unit_leads], channels: {normal: [email]}, mode: immediate}
"""


class Sink:
    """Records when each alert email arrived, keyed by the response id in its link."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        now = time.perf_counter()
        message = message_from_bytes(envelope.content)
        body = " ".join(
            (part.get_payload(decode=True) or b"").decode(errors="replace")
            for part in message.walk()
            if not part.is_multipart()
        )
        match = re.search(r"/responses/(\d+)", body)
        if match:
            with self.lock:
                self.arrived.setdefault(int(match.group(1)), now)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def answers(posts: str, prefix: str, n: int) -> dict[str, object]:
    """A low score, or a middling one with a complaint of its own that the text model decides."""
    if posts == "low" or (posts == "mixed" and n % 5):
        return {"score": 2, "comment": "Slow and unhelpful."}
    return {"score": 7, "comment": COMPLAINTS[n % len(COMPLAINTS)].format(n=f"{prefix}-{n}")}


def post_at_rate(port: int, token: str, prefix: str, rate: int, posts: str) -> list[tuple[float, float, int]]:
    def post(n: int) -> tuple[float, float, int]:
        body = json.dumps(
            {"survey": "csat", "external_id": f"{prefix}-{n}", "unit": "DESK", "answers": answers(posts, prefix, n)}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/responses",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as reply:
            response_id = json.load(reply)["id"]
        return started, time.perf_counter(), response_id

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = []
        for n in range(rate * SECONDS):
            delay = t0 + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(post, n))
        return [f.result() for f in futures]


def wait_until_serving(port: int) -> None:
    # Up to a minute: on busy cores a start (migration check, the text model's package looked up) takes a while.
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            return
        except OSError:
            time.sleep(0.1)


def warm_up(port: int, token: str, prefix: str, workers: int) -> None:
    """One judged post per process that judges, answered before the clock starts: a server warms its model at
    start, and the measurement is of a warm server."""
    for n in range(2 * workers):
        body = json.dumps(
            {
                "survey": "csat",
                "external_id": f"{prefix}-warm-{n}",
                "unit": "DESK",
                "answers": answers("judged", prefix, n),
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/responses",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=300):
            pass


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="closeloop-bench-"))
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SMS_URL")}
    env.update(CLOSELOOP_HOME=str(home), EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}", CLOSELOOP_LOG_LEVEL="WARNING")
    (home / "bench.yaml").write_text(CONFIG)
    (home / "bench-text.yaml").write_text(CONFIG + TEXT_RULE)
    subprocess.run([str(CLI), "config", "apply", str(home / "bench.yaml")], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [str(CLI), "token", "create", "--name", "bench", "--scopes", "ingest"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = re.search(r"cl_[A-Za-z0-9_\-]+", made.stdout).group(0)
    rows = []
    loads = [os.getloadavg()[0]]
    try:
        configured = "bench.yaml"
        for number, (label, commands, rate, posts) in enumerate(SCENARIOS):
            wanted = "bench.yaml" if posts == "low" else "bench-text.yaml"
            if wanted != configured:
                apply = [str(CLI), "config", "apply", "--force", str(home / wanted)]
                subprocess.run(apply, env=env, check=True, capture_output=True)
                configured = wanted
            port = free_port()
            processes = [
                subprocess.Popen(
                    [str(CLI), *command, *(["--port", str(port)] if command[0] in ("run", "serve") else [])],
                    env={**env, "SITE_URL": f"http://127.0.0.1:{port}"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                for command in commands
            ]
            try:
                wait_until_serving(port)
                if posts != "low":
                    warm_up(port, token, f"s{number}", 2 if commands is SERVE else 1)
                results = post_at_rate(port, token, f"s{number}", rate, posts)
                deadline = time.perf_counter() + 60
                while any(rid not in sink.arrived for _, _, rid in results) and time.perf_counter() < deadline:
                    time.sleep(0.05)
            finally:
                for process in processes:
                    os.killpg(process.pid, signal.SIGTERM)
                for process in processes:
                    process.wait(30)
            latencies = [sink.arrived[rid] - started for started, _, rid in results if rid in sink.arrived]
            round_trips = [done - started for started, done, _ in results]
            rows.append((label, rate, len(results), latencies, round_trips))
            judged = [
                sink.arrived[rid] - started
                for n, (started, _, rid) in enumerate(results)
                if posts != "low" and answers(posts, "", n)["score"] == 7 and rid in sink.arrived
            ]
            if posts == "mixed":
                rows.append((f"{label}: the judged posts alone", rate // 5, len(results) // 5, judged, []))
        direct = []
        for _ in range(200):
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", smtp.port) as client:
                client.sendmail("a@bench.example", ["b@bench.example"], "Subject: x\r\n\r\n/responses/0\r\n")
            direct.append(time.perf_counter() - started)
    finally:
        smtp.stop()
        shutil.rmtree(home, ignore_errors=True)
    loads.append(os.getloadavg()[0])

    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:.0f} ms" if values else "-"

    print("## Alert latency (POST -> SMTP acceptance)\n")
    print(
        f"SQLite, every response unhappy (one email each), {SECONDS} s per row; latency from the start of the POST"
        " to the SMTP server accepting the alert email. With the text rule "
        "(`{all: [{overall: {gte: 5, lte: 8}}, {text: unhappy}]}`), a judged post has a middling score and a "
        "complaint of its own in English, French, Spanish or German, which the model must judge unhappy before "
        "the alert exists; the servers are warm (one judged post answered before the clock starts).\n"
    )
    print("| set-up | rate | emails arrived | POST -> email p50 | p99 | POST round trip p50 | p99 |")
    print("|---|---|---|---|---|---|---|")
    for label, rate, total, latencies, round_trips in rows:
        print(
            f"| {label} | {rate}/s | {len(latencies)}/{total} | {ms(latencies, 0.5)} | {ms(latencies, 0.99)} | "
            f"{ms(round_trips, 0.5)} | {ms(round_trips, 0.99)} |"
        )
    print(f"| ceiling: direct smtplib send to the same sink | | | {ms(direct, 0.5)} | {ms(direct, 0.99)} | | |")
    print("\nTargets: p99 < 1 s at 50 responses/s with a text rule (embedded), and at 100/s in both set-ups.\n")
    print(
        f"Load average (1 min) before and after: {loads[0]:.1f} and {loads[1]:.1f}, on {os.cpu_count()} cores "
        "(other work on the machine slows every row; compare rows of one run).\n"
    )


if __name__ == "__main__":
    main()
