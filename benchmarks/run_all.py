"""`make bench`: run every benchmark in turn; each records its own section of benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run_all.py [NAME ...]      # e.g. e2e lid_speed; default: all of them

The dedup scale benchmark (200k and 1M documents) takes tens of minutes on a 2-core machine; the GPU trainer
benchmark needs a CUDA device and is run by hand (see its docstring).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["warc_read", "extraction_quality", "lid_speed", "lid_web_speed", "lid_memory", "rights_signals", "rights_policies", "quality_cost", "quality_compare", "fairness",
         "dedup_quality", "pii_precision", "restage_speed", "report_speed", "train_speed", "ray_scaling", "e2e", "dedup_scale"]


def main(names: list[str]) -> int:
    failed = []
    for name in names or ORDER:
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent).returncode:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
