"""Re-running one stage vs running the whole pipeline again: wall time and CPU time, same input, same machine.

    .venv/bin/python -m benchmarks.restage_speed [--input ../shared/data/warc/dev] [--workers 2]

Contenders, each a `corpus` subprocess (so model loading counts, as it does for a user):
- full: `corpus run eu_web` (what a user without `corpus stage` re-runs to try a threshold);
- stricter: `corpus stage quality --param min_doc_words=300` (re-decides from stored signals, nothing re-extracted);
- looser: `corpus stage quality --param rules=gopher_repetition_v1` (documents dropped by the other rules are
  re-read from their WARC records and re-extracted: the worst case of a restage);
- rights: `corpus stage rights` with a drop policy (every kept document's WARC record is re-read for its signals).
Wall time only (the pipeline's work happens in grandchild worker processes, which child CPU accounting misses);
the machine is shared, so compare ratios within one run.
Writes benchmarks/RESULTS.md section restage_speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._results import write_section

ROOT = Path(__file__).resolve().parent.parent
CORPUS = str(Path(sys.executable).parent / "corpus")


def timed(args: list[str]) -> float:
    """Wall seconds of one `corpus` command."""
    t0 = time.perf_counter()
    subprocess.run([CORPUS, *map(str, args)], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=str(ROOT / "tests" / "data" / "sample-crawl"))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="restage-bench-") as tmp:
        tmp = Path(tmp)
        parent = tmp / "parent"
        full = timed(["run", "eu_web", "--input", args.input, "--output", parent, "--workers", args.workers])
        policy = json.loads((ROOT / "manifests" / "policy-v2.json").read_text())
        policy.update(optout_action="drop", policy_version="bench-drop", agents=str(ROOT / "manifests" / policy["agents"]))
        (tmp / "drop.json").write_text(json.dumps(policy))
        runs = {
            "full `corpus run eu_web`": full,
            "`stage quality` min_doc_words=300": timed(["stage", "quality", "--input", parent, "--output", tmp / "strict",
                                                        "--workers", args.workers, "--param", "min_doc_words=300"]),
            "`stage quality` rules=gopher_repetition_v1": timed(["stage", "quality", "--input", parent, "--output", tmp / "loose",
                                                                 "--workers", args.workers, "--param", "rules=gopher_repetition_v1"]),
            "`stage rights` drop policy": timed(["stage", "rights", "--input", parent, "--output", tmp / "rights",
                                                 "--workers", args.workers, "--param", f"policy={tmp / 'drop.json'}"]),
        }
        counts = {}
        for name, out in (("strict", "strict"), ("loose", "loose"), ("rights", "rights")):
            rel = json.loads((tmp / out / "release.json").read_text())
            counts[name] = rel["totals"]["documents_kept"]
        kept = json.loads((parent / "release.json").read_text())["totals"]
    rows = [f"| {name} | {wall:.1f} | {full / wall:.1f}x |" for name, wall in runs.items()]
    md = (f"Input `{os.path.relpath(args.input, ROOT)}`: {kept['records_read']} records, {kept['documents_kept']} kept by the "
          f"full run; after the restages: strict {counts['strict']}, loose {counts['loose']}, rights {counts['rights']} kept. "
          f"`--workers {args.workers}`.\n\n| command | wall s | full / this |\n|---|---|---|\n" + "\n".join(rows))
    write_section("restage_speed", "Re-running one stage vs the whole pipeline", md)
    print(md)


if __name__ == "__main__":
    main()
