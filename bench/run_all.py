"""Run every benchmark and write their figures, with the machine and the date, to docs/benchmarks.md.

Each benchmark script prints a Markdown section (its figures and the ceiling measured in the same
run). Run with `make bench`; BENCH_ONLY=latency,ingest runs a subset.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "benchmarks.md"
BENCHMARKS = ["latency", "http_ingest", "ingest", "queries", "timers", "deliveries", "search", "text_model"]


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


def main() -> int:
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    sections = []
    for name in BENCHMARKS:
        if only and name not in only:
            continue
        script = HERE / f"{name}.py"
        print(f"running {script.name} ...", flush=True)
        result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            return result.returncode
        sections.append(result.stdout.strip())
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench` (bench/run_all.py). Each section compares closeloop with a ceiling\n"
        "measured in the same run on the same machine, so the figures can be compared across machines.\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"
    )
    DOCS.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
