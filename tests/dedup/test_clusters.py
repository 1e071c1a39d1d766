"""Connected components on disk: chains, stars and the smallest-key representative rule."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools.dedup.buckets import EDGE_SCHEMA
from corpus_tools.dedup.clusters import DuplicateClusters


def _edges(out, lang, rows, name="range=000.parquet"):
    path = out / "dedup" / "edges" / f"lang={lang}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=EDGE_SCHEMA), path)


def test_long_chain_and_separate_components(tmp_path):
    n = 300
    # a path graph listed in a scrambled order: needs several propagation rounds
    chain = [{"a": f"1n{i:04d}", "b": f"1n{i + 1:04d}", "j": 0.9, "exact": False} for i in range(n - 1)]
    chain = chain[::2] + chain[1::2]
    _edges(tmp_path, "xxx_Latn", chain[:150])
    _edges(tmp_path, "xxx_Latn", chain[150:] + [{"a": "1q1", "b": "1q2", "j": 1.0, "exact": True},
                                                {"a": "0old", "b": "1q2", "j": 0.85, "exact": False}], "range=001.parquet")
    step = DuplicateClusters(str(tmp_path), memory_mb=64)
    for _ in step.run(None, 0, 1):
        pass
    rows = {r["id"]: r for r in pq.read_table(tmp_path / "dedup" / "clusters" / "lang=xxx_Latn" / "clusters.parquet").to_pylist()}
    assert len(rows) == n + 3
    assert {r["rep_id"] for k, r in rows.items() if k.startswith("n")} == {"n0000"}
    assert rows["n0150"]["cluster_size"] == n and rows["n0000"]["cluster_id"] == "n0000"
    # an earlier-release document is the representative whenever the cluster has one
    assert rows["q1"]["rep_id"] == rows["q2"]["rep_id"] == "old" and rows["q1"]["rep_old"]
    assert rows["q1"]["cluster_size"] == 3
    assert not rows["q2"]["exact"]  # exact duplicate of q1, but q1 is not the representative
