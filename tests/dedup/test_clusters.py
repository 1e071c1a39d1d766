"""Distributed connected components: chains, stars, the smallest-key rule, and the same answer for any
number of partitions and tasks, checked against a plain union-find."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.dedup.buckets import EDGE_SCHEMA
from corpus_tools.dedup.clusters import DuplicateClusters
from corpus_tools.dedup.evaluate import run_steps


def _edges(out, lang, rows, name="range=000.parquet"):
    path = out / "dedup" / "edges" / f"lang={lang}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=EDGE_SCHEMA), path)


def _cluster(out, partition_edges, tasks=1) -> tuple[dict, list[str]]:
    clusters = DuplicateClusters(str(out), partition_edges=partition_edges)
    phases = []

    def plan():
        for name, step in clusters.steps():
            phases.append(name)
            yield name, step

    class Planned:  # what run_steps expands: the steps, as the driver plans them
        def steps(self):
            return plan()

    run_steps([Planned()], tasks=tasks)
    rows = [r for p in sorted((out / "dedup" / "clusters").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    return {r["id"]: r for r in rows}, phases


def _reference(edges: list[dict]) -> dict[str, tuple[str, int]]:
    """key -> (smallest key of its component, component size): a plain union-find."""
    parent: dict[str, str] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in edges:
        ra, rb = find(e["a"]), find(e["b"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    return {x: (min(m), len(m)) for m in members.values() for x in m}


def _graph(seed: int = 3) -> list[dict]:
    """Chains, stars, power-law-ish cluster sizes and random extra links, listed in a scrambled order."""
    rng = random.Random(seed)
    edges, n = [], 0
    def key():
        nonlocal n
        n += 1
        return f"1d{rng.randrange(10**9):09d}{n:05d}"
    for size in [400, 120, 60] + [rng.choice([2, 2, 2, 3, 4, 8, 20]) for _ in range(150)]:
        nodes = [key() for _ in range(size)]
        shape = rng.choice(["chain", "star", "random"])
        for i in range(1, size):
            j = i - 1 if shape == "chain" else 0 if shape == "star" else rng.randrange(i)
            a, b = sorted((nodes[i], nodes[j]))
            edges.append({"a": a, "b": b, "j": round(rng.uniform(0.8, 1.0), 3), "exact": rng.random() < 0.2})
    rng.shuffle(edges)
    return edges


def test_same_clusters_for_1_4_16_partitions_and_any_tasks(tmp_path):
    edges = _graph()
    ref = _reference(edges)
    results = []
    for parts, tasks in [(1, 1), (4, 2), (16, 16)]:
        out = tmp_path / f"p{parts}-t{tasks}"
        third = len(edges) // 3
        for i, chunk in enumerate([edges[:third], edges[third:2 * third], edges[2 * third:]]):
            _edges(out, "xxx_Latn", chunk, f"range={i:03d}.parquet")
        rows, phases = _cluster(out, partition_edges=-(-len(edges) // parts), tasks=tasks)
        assert {k: (r["rep_id"], r["cluster_size"]) for k, r in rows.items()} == \
               {k[1:]: (v[0][1:], v[1]) for k, v in ref.items()}
        if parts == 1:
            assert phases == ["dedup_clusters", "dedup_clusters_r01", "dedup_clusters_out"]
        else:
            assert len(phases) > 4  # several rounds were needed (chains of 400 across 4 or 16 partitions)
        results.append(sorted(rows.values(), key=lambda r: r["id"]))
    assert all(r == results[0] for r in results[1:])  # every column, not only the representatives


def test_long_chain_and_separate_components(tmp_path):
    n = 300
    # a path graph listed in a scrambled order
    chain = [{"a": f"1n{i:04d}", "b": f"1n{i + 1:04d}", "j": 0.9, "exact": False} for i in range(n - 1)]
    chain = chain[::2] + chain[1::2]
    _edges(tmp_path, "xxx_Latn", chain[:150])
    _edges(tmp_path, "xxx_Latn", chain[150:] + [{"a": "1q1", "b": "1q2", "j": 1.0, "exact": True},
                                                {"a": "0old", "b": "1q2", "j": 0.85, "exact": False}], "range=001.parquet")
    rows, _ = _cluster(tmp_path, partition_edges=50)  # 7 partitions
    assert len(rows) == n + 3
    assert {r["rep_id"] for k, r in rows.items() if k.startswith("n")} == {"n0000"}
    assert rows["n0150"]["cluster_size"] == n and rows["n0000"]["cluster_id"] == "n0000"
    # an earlier-release document is the representative whenever the cluster has one
    assert rows["q1"]["rep_id"] == rows["q2"]["rep_id"] == "old" and rows["q1"]["rep_old"]
    assert rows["q1"]["cluster_size"] == 3 and rows["old"]["old"]
    assert not rows["q2"]["exact"]  # exact duplicate of q1, but q1 is not the representative
    assert rows["q2"]["jaccard"] == 1.0 and rows["old"]["jaccard"] == pytest.approx(0.85)


def test_exact_flag_follows_the_exact_root(tmp_path):
    _edges(tmp_path, "xxx_Latn", [{"a": "1a", "b": "1b", "j": 1.0, "exact": True},
                                  {"a": "1b", "b": "1c", "j": 0.82, "exact": False}])
    rows, _ = _cluster(tmp_path, partition_edges=1)
    assert rows["b"]["exact"] and not rows["c"]["exact"] and rows["a"]["exact"]
    assert {r["rep_id"] for r in rows.values()} == {"a"} and rows["c"]["cluster_size"] == 3


def test_no_edges_no_clusters_and_no_rounds(tmp_path):
    _edges(tmp_path, "xxx_Latn", [])
    rows, phases = _cluster(tmp_path, partition_edges=10)
    assert rows == {} and phases == ["dedup_clusters"]


def test_driver_runs_the_rounds_and_skips_completed_ones_on_rerun(tmp_path):
    """Through the real driver (local executor, in-process with one worker): a re-run finds every round
    complete and redoes none of them (a deleted round file stays deleted), and the clusters are the same."""
    from types import SimpleNamespace

    from corpus_tools.dedup import chained_phases
    from corpus_tools.run.executors import run_phases

    edges = _graph(seed=5)
    _edges(tmp_path, "xxx_Latn", edges)
    opts = SimpleNamespace(output=str(tmp_path), executor="local", workers=1, files=[])

    def run():
        assert run_phases([chained_phases(DuplicateClusters(str(tmp_path), partition_edges=100).steps(), 2)],
                          opts, progress=False) == {}
        rows = [r for p in sorted((tmp_path / "dedup" / "clusters").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
        return {r["id"]: (r["rep_id"], r["cluster_size"]) for r in rows}

    first = run()
    assert first == {k[1:]: (v[0][1:], v[1]) for k, v in _reference(edges).items()}
    rounds = sorted(p.name for p in (tmp_path / "logs").iterdir() if p.name.startswith("dedup_clusters_r"))
    assert len(rounds) >= 2 and (tmp_path / "logs" / "dedup_clusters_out" / "completions").is_dir()
    victim = next((tmp_path / "dedup" / "components").rglob("round=001/to=*/*.parquet"))
    victim.unlink()
    assert run() == first and not victim.exists()
