"""Planted near-duplicates of real articles, scored against brute-force exact Jaccard on the same shingles."""

from __future__ import annotations

import pytest

from corpus_tools.dedup import evaluate as ev
from tests.conftest import SHARED

GROUND_TRUTH = SHARED / "extraction" / "scrapinghub" / "ground-truth.json"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    docs = ev.planted_corpus(ev.load_articles(GROUND_TRUTH)[:12])
    out = tmp_path_factory.mktemp("planted")
    ev.write_staging(out, docs)
    ev.run_steps(ev.dedup_steps(str(out)), tasks=2)
    return out, docs


def test_recall_and_precision_against_brute_force(planted):
    out, docs = planted
    s = ev.score(out, docs)
    assert s["true_pairs"] > 50
    assert s["pair_recall"] >= 0.95, s
    assert s["edge_precision"] >= 0.95, s
    assert s["removal_precision"] >= 0.95, s


def test_heavily_edited_variants_are_kept(planted):
    import pyarrow.parquet as pq

    out, docs = planted
    kept = {i for p in (out / "shards").rglob("*.parquet") for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()}
    # a 10% word-edit rate leaves a 5-gram Jaccard near 0.4 with its source: never a duplicate
    assert all(d["id"] in kept for d in docs if d["rate"] == 0.1)
    # the upper-cased copy differs only after normalisation: it is an exact duplicate of its source
    ledger = [r for p in (out / "exclusions").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    exact = {r["id"] for r in ledger if r["reason"] == "exact_duplicate"}
    assert {d["id"] for d in docs if d["rate"] == 0.0} <= exact | kept
    assert len(exact) >= 12
