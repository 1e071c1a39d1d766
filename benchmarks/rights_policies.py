"""The default rights policy against the strict one on the dev crawl: what a copyright notice changes.

    .venv/bin/python benchmarks/rights_policies.py

Runs `corpus run eu_web` over ../shared/data/warc/dev with the default policy (manifests/policy-v2.json) and with
`--param policy=manifests/policy-strict-v1.json`, and counts kept documents, untrainable ones, reserved ones and
those with a copyright notice (DuckDB over the shards). Records the section rights_policies of RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "warc" / "dev"
POLICIES = {"default (policy-v2)": [], "strict (policy-strict-v1)": ["--param", "policy=manifests/policy-strict-v1.json"]}


def counts(out: Path) -> tuple:
    return duckdb.sql(
        f"SELECT count(*), count(*) FILTER (WHERE NOT train_eligible), count(*) FILTER (WHERE redistribution = 'reserved'), "
        f"count(*) FILTER (WHERE copyright_notice) FROM read_parquet('{out}/shards/**/*.parquet')").fetchall()[0]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in POLICIES.items():
            out = Path(tmp) / name.split()[0]
            subprocess.run([str(ROOT / ".venv" / "bin" / "corpus"), "run", "eu_web", "--input", str(DEV), "--output",
                            str(out), "--no-report", *extra], check=True, capture_output=True, cwd=ROOT)
            kept, untrainable, reserved, notice = counts(out)
            rows.append(f"| {name} | {kept} | {untrainable} | {reserved} | {notice} |")
    md = "\n".join(["Dev crawl (`../shared/data/warc/dev`), whole default pipeline.", "",
                    "| policy | kept | train_eligible = false | redistribution = reserved | copyright_notice |",
                    "|---|---|---|---|---|", *rows])
    write_section("rights_policies", "Rights policies: a copyright notice is not an opt-out (dev crawl)", md)
    print(md)


if __name__ == "__main__":
    main()
