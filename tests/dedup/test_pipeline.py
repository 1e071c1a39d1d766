"""The default pipeline runs dedup after the per-document stages: staging -> final shards + dedup ledger."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest


def _rows(root):
    return [r for p in sorted(root.rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]


@pytest.mark.slow
def test_sample_run_is_deduplicated_and_conserved(sample_run):
    summary = json.loads((sample_run / "run.json").read_text())
    assert summary["conservation_ok"]
    staged = _rows(sample_run / "staging" / "shards")
    kept = _rows(sample_run / "shards")
    ledger = _rows(sample_run / "exclusions" / "phase=dedup") if (sample_run / "exclusions" / "phase=dedup").exists() else []
    assert len(staged) == len(kept) + len(ledger) and len(kept) > 0
    kept_ids = {r["id"] for r in kept}
    assert all(r["kept_id"] in kept_ids and r["reason"] in ("exact_duplicate", "near_duplicate") for r in ledger)
    assert all(r["dup_cluster_size"] >= 1 for r in kept)
    # a kept representative's cluster size counts itself and every document removed for it
    for r in kept:
        if r["dup_cluster_id"]:
            assert r["dup_cluster_size"] == 1 + sum(x["kept_id"] == r["id"] for x in ledger)
    assert (sample_run / "dedup" / "index" / "params.json").exists()
