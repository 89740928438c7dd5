"""Run every benchmark and write their figures, with the machine and the date, to docs/benchmarks.md.

Each benchmark script prints a Markdown section (its figures and the ceiling measured in the same
run). Run with `make bench`; BENCH_ONLY=latency,ingest runs a subset.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "benchmarks.md"
POSTGRES = os.environ.get("CLOSELOOP_TEST_POSTGRES") or "postgres://postgres@127.0.0.1:5432/postgres"
BENCHMARKS = ["latency", "http_ingest", "ingest", "queries", "timers", "deliveries", "search", "text_model", "profiles"]


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {system}"


@contextlib.contextmanager
def bench_database(name: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database for one benchmark on the server CLOSELOOP_TEST_POSTGRES names (or the local
    one), dropped afterwards; None when no server answers."""
    import psycopg

    server = urlsplit(POSTGRES)
    admin = urlunsplit(server._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        yield None
        return
    try:
        yield urlunsplit(server._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TIMES: list[tuple[str, float]] = []


class BenchFailed(Exception):
    pass


def run(script: Path, *arguments: str) -> str:
    print(f"running {script.name} {' '.join(arguments)}...", flush=True)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        raise BenchFailed(f"{script.name} {' '.join(arguments)} exited with {result.returncode}")
    TIMES.append((script.name + (" (PostgreSQL)" if arguments else ""), time.perf_counter() - started))
    return result.stdout.strip()


def write(sections: list[str]) -> None:
    """The file as far as the run has got: written after each benchmark, so a late failure (or an
    interrupted run) keeps the figures already measured."""
    took = ", ".join(f"{name} {seconds / 60:.1f}" for name, seconds in TIMES)
    total = sum(seconds for _, seconds in TIMES) / 60
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (bench/run_all.py). Each section compares closeloop with a ceiling\n"
        "measured in the same run on the same machine, so the figures can be compared across machines.\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"
        f"The run took {total:.1f} minutes ({took}). What bounds each figure against its target, and what\n"
        "would move it: docs/performance.md.\n"
    )
    DOCS.write_text(header + "\n" + "\n\n".join(sections) + "\n")


def main() -> int:
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    sections: list[str] = []
    try:
        for name in BENCHMARKS:
            if only and name not in only:
                continue
            sections.append(run(HERE / f"{name}.py"))
            write(sections)
            if name == "deliveries":
                # Again on PostgreSQL with 1, 2 and 4 workers: the scale-out row.
                with bench_database("closeloop_bench_deliveries") as url:
                    if url is None:
                        sections.append("## Outbox drain on PostgreSQL by several workers\n\nNo PostgreSQL server.")
                    else:
                        count = os.environ.get("BENCH_DELIVERIES_PG", "10000")
                        sections.append(run(HERE / "deliveries.py", "--postgres", url, "--deliveries", count))
                write(sections)
    except BenchFailed as failed:
        sections.append(f"## Not measured\n\n{failed}: the benchmarks after it did not run.")
        write(sections)
        print(f"wrote {DOCS} as far as the run got", file=sys.stderr)
        return 1
    print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
