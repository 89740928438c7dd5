"""End-to-end alert latency: POST of an unhappy response -> alert email accepted by an SMTP server.

Starts `closeloop run` (SQLite, web + worker in one process) against a local aiosmtpd sink,
posts RATE responses per second for SECONDS seconds and reports p50/p99 from the start of each
POST to the moment the SMTP server accepted its email. The ceilings, measured in the same run:
the POST round trip alone (what the web process costs) and a direct smtplib send to the same
sink (what SMTP costs). Prints a Markdown section.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import smtplib
import socket
import statistics
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

RATE = int(os.environ.get("BENCH_RATE", "50"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "30"))
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


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="closeloop-bench-"))
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SMS_URL")}
    env.update(
        CLOSELOOP_HOME=str(home),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        SITE_URL=f"http://127.0.0.1:{port}",
        CLOSELOOP_LOG_LEVEL="WARNING",
    )
    (home / "bench.yaml").write_text(CONFIG)
    subprocess.run([str(CLI), "config", "apply", str(home / "bench.yaml")], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [str(CLI), "token", "create", "--name", "bench", "--scopes", "ingest"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = re.search(r"cl_[A-Za-z0-9_\-]+", made.stdout).group(0)
    server = subprocess.Popen(
        [str(CLI), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)

        def post(n: int) -> tuple[float, float, int]:
            body = json.dumps(
                {
                    "survey": "csat",
                    "external_id": f"b-{n}",
                    "unit": "DESK",
                    "answers": {"score": 2, "comment": "Slow and unhelpful."},
                }
            ).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/responses",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as reply:
                response_id = json.load(reply)["id"]
            return started, time.perf_counter(), response_id

        total = RATE * SECONDS
        results: list[tuple[float, float, int]] = []
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = []
            for n in range(total):
                delay = t0 + n / RATE - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(post, n))
            results = [f.result() for f in futures]
        deadline = time.perf_counter() + 30
        while len(sink.arrived) < total and time.perf_counter() < deadline:
            time.sleep(0.05)
        latencies = [sink.arrived[rid] - started for started, _, rid in results if rid in sink.arrived]
        round_trips = [done - started for started, done, _ in results]

        direct = []
        for _ in range(200):
            started = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", smtp.port) as client:
                client.sendmail("a@bench.example", ["b@bench.example"], "Subject: x\r\n\r\n/responses/0\r\n")
            direct.append(time.perf_counter() - started)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        smtp.stop()
        shutil.rmtree(home, ignore_errors=True)

    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:.0f} ms"

    print("## Alert latency (POST -> SMTP acceptance)\n")
    print(f"`closeloop run` on SQLite, {RATE} responses/s for {SECONDS} s, every one unhappy (one email each).\n")
    print("| measure | p50 | p99 | max |")
    print("|---|---|---|---|")
    print(
        f"| POST -> email accepted by SMTP ({len(latencies)}/{total} arrived) | {ms(latencies, 0.5)} | "
        f"{ms(latencies, 0.99)} | {max(latencies) * 1000:.0f} ms |"
    )
    print(
        f"| ceiling: POST round trip alone | {ms(round_trips, 0.5)} | {ms(round_trips, 0.99)} | "
        f"{max(round_trips) * 1000:.0f} ms |"
    )
    print(
        f"| ceiling: direct smtplib send to the same sink | {ms(direct, 0.5)} | {ms(direct, 0.99)} | "
        f"{max(direct) * 1000:.0f} ms |"
    )
    print(
        f"\nTarget: p99 < 1 s. Median of all {len(latencies)} latencies: "
        f"{statistics.median(latencies) * 1000:.0f} ms.\n"
    )


if __name__ == "__main__":
    main()
