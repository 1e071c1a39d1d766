"""Same input, same output: 1 task vs 4 tasks, 1 vs 3 hash ranges, 1 vs many cluster partitions give byte-identical shards and ledger."""

from __future__ import annotations

import hashlib

import pyarrow.parquet as pq

from corpus_tools.dedup import evaluate as ev
from tests.dedup.test_quality import GROUND_TRUTH


def _digest(out) -> dict[str, str]:
    paths = sorted((out / "shards").rglob("*.parquet")) + sorted((out / "exclusions").rglob("*.parquet"))
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _clusters(out) -> list[dict]:
    # parts follow the clustering partitions (a data-dependent layout): compare the rows, in key order
    rows = [r for p in sorted((out / "dedup" / "clusters").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    return sorted(rows, key=lambda r: (r["old"], r["id"]))


def test_one_task_and_four_tasks_write_identical_files(tmp_path):
    docs = ev.planted_corpus(ev.load_articles(GROUND_TRUTH)[:6])
    # two languages, so the per-language split is exercised too
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        ev.write_staging(out, docs[::2], files=3, lang="eng_Latn")
        ev.write_staging(out, docs[1::2], files=2, lang="deu_Latn")
    ev.run_steps(ev.dedup_steps(str(a), ranges=1), tasks=1)
    ev.run_steps(ev.dedup_steps(str(b), ranges=3, partition_edges=3), tasks=4)  # many cluster partitions
    assert _digest(a) == _digest(b)
    assert _clusters(a) == _clusters(b)
    assert any(p.startswith("exclusions/phase=dedup") for p in _digest(a))
    # every kept row carries its cluster size; sizes add up to kept + removed
    kept = [r for p in (a / "shards").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    removed = sum(pq.ParquetFile(p).metadata.num_rows for p in (a / "exclusions").rglob("*.parquet"))
    assert sum(r["dup_cluster_size"] for r in kept) == len(kept) + removed == len(docs)
    # documents are compared within their language only
    langs = {r["id"]: r["lang"] for r in kept}
    ledger = [r for p in (a / "exclusions").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert all(langs[r["kept_id"]] == r["lang"] for r in ledger)


def test_band_by_band_units_write_the_edges_of_a_single_pass(tmp_path, monkeypatch):
    """A bucket unit over more than PRELOAD_ROWS rows holds one batch of bands' groups and signatures at a
    time (one band per batch, or a few); its edges file is byte-identical to the single pass over every band
    that small units make, with an earlier release's index among the sources too (old-new pairs, old-old
    pairs never linked)."""
    from corpus_tools.dedup.buckets import MinhashBuckets

    docs = ev.planted_corpus(ev.load_articles(GROUND_TRUTH)[:6])
    earlier = tmp_path / "earlier"
    ev.write_staging(earlier, docs[::3], files=2, lang="eng_Latn")
    ev.run_steps(ev.dedup_steps(str(earlier)), tasks=1)
    index = (str(earlier / "dedup" / "index"),)
    outs = {}
    modes = (("single", MinhashBuckets.PRELOAD_ROWS, MinhashBuckets.MEMBER_BUDGET), ("by_band", 0, 1),
             ("batches", 0, 100))  # a budget of 100 group entries: batches of 4-6 bands here
    for name, preload, budget in modes:
        monkeypatch.setattr(MinhashBuckets, "PRELOAD_ROWS", preload)
        monkeypatch.setattr(MinhashBuckets, "MEMBER_BUDGET", budget)
        out = outs[name] = tmp_path / name
        ev.write_staging(out, docs, files=3, lang="eng_Latn")
        ev.run_steps(ev.dedup_steps(str(out), ranges=2, index_dirs=index), tasks=2)
    edges = {name: {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                    for p in sorted((out / "dedup" / "edges").rglob("*.parquet"))} for name, out in outs.items()}
    assert len(edges["single"]) == 2 and edges["by_band"] == edges["single"] == edges["batches"]
    assert sum(pq.ParquetFile(p).metadata.num_rows for p in (outs["single"] / "dedup" / "edges").rglob("*.parquet"))
    assert _digest(outs["by_band"]) == _digest(outs["single"]) == _digest(outs["batches"])
