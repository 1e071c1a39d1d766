"""Ray vs local executor: docs/s with 1 and 2 workers on the same input, plus per-document step costs.

    .venv/bin/python benchmarks/ray_scaling.py [--input ../shared/data/warc/dev] [--params dedup=false]

Each configuration is one `corpus run eu_web` in a subprocess (a fresh local Ray with N CPUs for the Ray
rows, so Ray's start-up is included, as a user would see it). docs/s = records read / run wall time
(run.json `wall_s`). The per-step costs (CPU seconds per record, summed over the docs phase's tasks from
datatrove's stats) and the peak RSS feed docs/SCALING.md. Writes the "ray_scaling" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

CORPUS = str(Path(sys.executable).parent / "corpus")


def run(inputs: str, out: Path, executor: str, workers: int, params: list[str]) -> dict:
    cmd = [CORPUS, "run", "eu_web", "--input", inputs, "--output", str(out), "--executor", executor,
           "--workers", str(workers), "--overwrite"]
    for p in params:
        cmd += ["--param", p]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    env.pop("RAY_ADDRESS", None)
    t0, ru0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed, ru1 = time.time() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the command and the processes it waited for (all of it for the local executor; Ray's
    # workers are not our children, so for Ray rows this is the driver only)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{executor} x{workers} failed: {proc.stderr.strip().splitlines()[-1:]}")
    summary = json.loads((out / "run.json").read_text())
    return {"executor": executor, "workers": workers, "records": summary["records_read"],
            "wall_s": summary["wall_s"], "process_s": elapsed, "cpu_s": cpu_s}


def step_costs(out: Path) -> tuple[dict[str, list[float]], int]:
    """Per step of the docs phase, summed over its tasks: [total s, s without each task's slowest call (model
    loading, a one-off per task), calls]; and the records read."""
    costs: dict[str, list[float]] = {}
    records = 0
    for f in sorted((out / "logs" / "docs" / "stats").glob("*.json")):
        for step in json.loads(f.read_text()):
            name = step["name"].split(":")[-1].strip()
            ts = step.get("time_stats", {})
            c = costs.setdefault(name, [0.0, 0.0, 0])
            c[0] += ts.get("total", 0.0)
            c[1] += ts.get("total", 0.0) - (ts.get("max", 0.0) if ts.get("n", 1) > 1 else 0.0)
            c[2] += ts.get("n", 1)
            rec = step.get("stats", {}).get("records_read")
            if rec:
                records += rec["total"] if isinstance(rec, dict) else rec
    return costs, records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", default=str(ROOT.parent / "shared" / "data" / "warc" / "dev"))
    ap.add_argument("--params", nargs="*", default=["dedup=false"],
                    help="recipe params; dedup=false keeps it to the per-document phase + release")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ray-scaling-") as tmp:
        for executor, workers in (("local", 1), ("local", 2), ("ray", 1), ("ray", 2)):
            out = Path(tmp) / f"{executor}-{workers}"
            rows.append(run(args.input, out, executor, workers, args.params))
            print(rows[-1], flush=True)
            if (executor, workers) == ("local", 1):
                costs, records = step_costs(out)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    base = rows[0]["records"] / rows[0]["wall_s"]
    lines = [f"Input: `{Path(args.input).name}/` ({rows[0]['records']} WARC records), recipe `eu_web` "
             f"with `{' '.join(args.params) or '(defaults)'}`; each run in a fresh process (Ray rows start a local "
             f"Ray with N CPUs, included in the time).", "",
             "| executor | workers | records | wall s | docs/s | vs local x1 |", "|---|---|---|---|---|---|"]
    for r in rows:
        rate = r["records"] / r["wall_s"]
        lines.append(f"| {r['executor']} | {r['workers']} | {r['records']} | {r['wall_s']:.1f} | {rate:.2f} | {rate / base:.2f}x |")
    total = sum(c[0] for c in costs.values())
    marginal = sum(c[1] for c in costs.values())
    lines += ["", f"Per-record CPU cost of the docs phase (local x1, {records} records; datatrove step timers): "
              f"{total / max(records, 1) * 1000:.0f} ms/record including per-task model loading, "
              f"{marginal / max(records, 1) * 1000:.0f} ms/record without each task's slowest call (the load).", "",
              "| step | total s | ms/record | ms/record without load |", "|---|---|---|---|"]
    for name, (sec, marg, _n) in sorted(costs.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"| {name} | {sec:.2f} | {sec / max(records, 1) * 1000:.1f} | {marg / max(records, 1) * 1000:.1f} |")
    cpu = rows[0]["cpu_s"] / max(rows[0]["records"], 1)
    lines += ["", f"CPU time of the whole local x1 run (user + system, all processes; immune to other load on the "
              f"machine, unlike the wall-clock step timers): {rows[0]['cpu_s']:.1f} s = {cpu * 1000:.0f} ms/record."]
    lines += ["", f"Peak RSS of the largest child process over all runs: {peak_rss_mb:.0f} MB."]
    write_section("ray_scaling", "Ray vs local executor scaling", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
