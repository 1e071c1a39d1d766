"""Time to write the run report (`corpus report OUT`) for the dev crawl, in a fresh process each time.

    .venv/bin/python benchmarks/report_speed.py [--rounds 3]

Runs `corpus run eu_web --no-report` over ../shared/data/warc/dev once, then `corpus report` on it `--rounds`
times (each a new process, so imports and DuckDB start-up are counted): wall and CPU seconds of each, and the
issue-24 limit (< 15 s). Records the section report_speed of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

CORPUS = ROOT / ".venv" / "bin" / "corpus"
DEV = ROOT.parent / "shared" / "data" / "warc" / "dev"


def timed(args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - t0, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dev"
        subprocess.run([str(CORPUS), "run", "eu_web", "--input", str(DEV), "--output", str(out), "--no-report"],
                       check=True, capture_output=True)
        runs = [timed([str(CORPUS), "report", str(out)]) for _ in range(args.rounds)]
    load = open("/proc/loadavg").read().split()[0]
    rows = [f"| {i + 1} | {w:.2f} | {c:.2f} |" for i, (w, c) in enumerate(runs)]
    worst = max(w for w, _ in runs)
    md = "\n".join([f"`corpus report` on the dev crawl (235 pages), {args.rounds} fresh processes, load average "
                    f"{load} at the end.", "", "| round | wall s | CPU s |", "|---|---|---|", *rows, "",
                    f"Limit < 15 s (issue 24): {'met' if worst < 15 else 'NOT met'} (slowest {worst:.2f} s)."])
    write_section("report_speed", "Run report: time to write it (dev crawl)", md)
    print(md)


if __name__ == "__main__":
    main()
