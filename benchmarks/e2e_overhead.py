"""Where our run's CPU goes outside the docs steps: CPU seconds per phase of `eu_web`, this checkout vs another.

    nice -n 5 .venv/bin/python benchmarks/e2e_overhead.py --baseline /tmp/base [--label TEXT] [--rounds 2] [--input DIR]

`--baseline` is another checkout of corpus-tools (e.g. `git archive <commit> | tar -x -C /tmp/base`, with
`build/` linked in for the LID cache): both run in fresh processes, alternating (baseline, this, baseline,
this, ...), one worker, on the real-page crawl of benchmarks/e2e_crawl.py (406 pages; `--input` for another
folder of WARCs). Each process runs the recipe's phases twice, cold then warm (as benchmarks/e2e.py does),
each phase through `corpus_tools.run.executors.run_phases` with `time.process_time()` around it (the
clustering rounds are chained inside `dedup_clusters`), plus the CPU of the child processes it started. The
two checkouts must write the same release: the script compares every shard and ledger file and the roots.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--child" not in sys.argv:  # a child imports corpus_tools from the checkout its PYTHONPATH names
    sys.path.insert(0, str(ROOT))


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def child(input_dir: str, out: str) -> None:
    """Run eu_web's phases cold then warm in this process; print CPU seconds per phase as JSON."""
    from corpus_tools.core import storage
    from corpus_tools.core.recipe import RunOptions, load_recipe
    from corpus_tools.run.driver import make_run_id
    from corpus_tools.run.executors import run_phases

    import corpus_tools

    result = {"package": str(Path(corpus_tools.__file__).parent)}
    for label in ("cold", "warm"):
        start, children = time.process_time(), _children_cpu()
        opts = RunOptions(inputs=[input_dir], output=f"{out}/{label}", workers=1)
        opts.files = storage.expand_inputs(opts.inputs)
        opts.run_id = make_run_id("eu_web", opts)
        phases = load_recipe("eu_web").build(opts)
        cpu = {"start-up (recipe, steps)": time.process_time() - start}
        for phase in phases:
            t = time.process_time()
            failed = run_phases([phase], opts, progress=False)
            if failed:
                raise SystemExit(f"{phase.name} failed: {failed}; see {out}/{label}/logs")
            cpu[phase.name] = time.process_time() - t
        cpu["child processes"] = _children_cpu() - children
        cpu["total"] = time.process_time() - start + cpu["child processes"]
        result[label] = cpu
    release = json.loads(Path(f"{out}/warm/release.json").read_text())
    result["release"] = {k: release[k] for k in ("merkle_root", "documents_root", "release_id")}
    result["files"] = {p.relative_to(f"{out}/warm").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                       for d in ("shards", "exclusions") for p in sorted(Path(f"{out}/warm/{d}").rglob("*.parquet"))}
    print(json.dumps(result))


def measure(checkout: Path, input_dir: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        proc = subprocess.run([sys.executable, __file__, "--child",
                               "--input", str(input_dir), "--out", tmp], capture_output=True, text=True, env=env,
                              cwd=checkout)
        if proc.returncode:
            raise SystemExit(f"{checkout} failed:\n{proc.stderr[-3000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if not result["package"].startswith(str(checkout)):
            raise SystemExit(f"the child imported {result['package']}, not the checkout {checkout}")
        return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="another checkout of corpus-tools to compare with (required)")
    ap.add_argument("--input", help="a folder of WARC files (default: the real-page crawl)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--label", help="what the baseline is, for RESULTS.md (default: its path)")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        return child(args.input, args.out)
    if not args.baseline:
        ap.error("--baseline DIR is required: a checkout to compare with (git archive <commit> | tar -x -C DIR)")
    baseline = Path(args.baseline).resolve()
    from benchmarks.e2e import count_html_pages, crawl_dir

    input_dir = Path(args.input) if args.input else crawl_dir()
    pages = count_html_pages(input_dir)
    runs: dict[str, list[dict]] = {"baseline": [], "this": []}
    for _ in range(args.rounds):
        for which, checkout in (("baseline", baseline), ("this", ROOT)):
            r = measure(checkout, input_dir)
            runs[which].append(r)
            print(which, json.dumps({m: round(r[m]["total"], 2) for m in ("cold", "warm")}), flush=True)
    same = all(r["release"] == runs["baseline"][0]["release"] and r["files"] == runs["baseline"][0]["files"]
               for v in runs.values() for r in v)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    phases = list(runs["this"][0]["warm"])
    med = {(w, m, p): statistics.median(r[m][p] for r in runs[w]) for w in runs for m in ("cold", "warm") for p in phases}
    rest = {(w, m): med[(w, m, "total")] - med[(w, m, "docs")] for w in runs for m in ("cold", "warm")}
    load = os.getloadavg()[0]
    body = [f"Input: `{input_dir.name}/` ({pages} HTML pages, benchmarks/e2e_crawl.py), `eu_web`, one worker, fresh "
            f"processes, {args.rounds} alternating rounds, medians, CPU seconds (user + system, child processes "
            f"included). This checkout ({commit}) vs the baseline, {args.label or baseline}. Load average when it finished: "
            f"{load:.1f} (2 shared cores: the docs phase, ~10 s, moves by more than the cuts measured here).", "",
            f"Same release from both: {'yes' if same else 'NO'} (every shard and ledger file, merkle_root "
            f"{runs['this'][0]['release']['merkle_root'][:16]}…, documents_root "
            f"{runs['this'][0]['release']['documents_root'][:16]}…, release_id {runs['this'][0]['release']['release_id']}).",
            "", "| phase | baseline cold | this cold | baseline warm | this warm | this / baseline, warm |",
            "|---|---|---|---|---|---|"]
    for p in phases:
        b, t = med[("baseline", "warm", p)], med[("this", "warm", p)]
        body.append(f"| {p} | {med[('baseline', 'cold', p)]:.2f} | {med[('this', 'cold', p)]:.2f} | {b:.2f} | {t:.2f} | "
                    f"{t / b:.2f} |" if b > 0.005 else
                    f"| {p} | {med[('baseline', 'cold', p)]:.2f} | {med[('this', 'cold', p)]:.2f} | {b:.2f} | {t:.2f} | – |")
    body.append(f"| all but the docs phase | {rest[('baseline', 'cold')]:.2f} | {rest[('this', 'cold')]:.2f} | "
                f"{rest[('baseline', 'warm')]:.2f} | {rest[('this', 'warm')]:.2f} | "
                f"{rest[('this', 'warm')] / rest[('baseline', 'warm')]:.2f} |")
    print("\n".join(body))
    from benchmarks._results import write_section

    write_section("e2e_overhead", "End to end: CPU per phase outside the docs steps, this checkout vs a baseline",
                  "\n".join(body))


if __name__ == "__main__":
    main()
