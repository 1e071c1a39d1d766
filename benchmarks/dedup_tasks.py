"""Dedup at 1M-16M documents in one language: wall, CPU and peak RSS of every task of every phase at 1, 4, 16 tasks.

Run:  nice -n 10 .venv/bin/python benchmarks/dedup_tasks.py [--sizes 1000000] [--tasks 1,4,16] [--record]
(`benchmarks/dedup_scale.py` runs it too, at 1M, so `make bench` reaches it.)

Synthetic signatures with the structure of web duplicates, written straight into `dedup/signatures/`
(computing 4M MinHashes from text would take ~1 h of CPU; signature throughput per core is measured from
real text in section dedup_scale):
- 30% of the documents are in duplicate clusters whose sizes follow a power law (size - 1 ~ Zipf(2), capped
  at 20,000 members); the rest are unique.
- 20% of the clusters are exact copies (one exact-text hash, identical signatures); the others are *chains*:
  member p's MinHash slots change with position p at per-slot periods (1, 2, 4, 8, 16 positions or never),
  so neighbours share ~87% of their values, members two apart ~81% and members three apart ~79% (under the
  0.8 threshold): each member links to its neighbours only and a cluster is a long path, the hard case.
- ids are random hex, so key order is unrelated to chain order.

For T tasks, the bucket phase runs its 16 hash ranges over T tasks and clustering has T partitions (`partition_edges` =
ceil(edges / T)); every task of every phase (scatter, each round, output) runs in a fresh process, one after
the other, so its peak RSS (VmHWM) and CPU time are its own; "wall" of a phase is its slowest task (the phase's
time with T cores). The clusters of every T are compared row for row with T = 1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

LANG = "xxx_Latn"
FILES = 20
RANGES = 16  # bucket units per band: fixed, so every task count runs the same bucket units
PERM, BANDS, ROWS = 256, 32, 8
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix(*xs: np.ndarray) -> np.ndarray:
    """splitmix64 of the combined inputs (uint64, wrapping)."""
    h = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for x in xs:
            h = (h ^ np.asarray(x, dtype=np.uint64)) * np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
            h = h * np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(29)
    return h


def layout(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Cluster start offsets and sizes covering the first ~30% of the global document indices."""
    rng = np.random.default_rng(seed)
    target, sizes = int(n * 0.3), []
    total = 0
    while total < target:
        s = np.minimum(rng.zipf(2.0, size=10000) + 1, 20000)
        sizes.append(s)
        total += int(s.sum())
    sizes = np.concatenate(sizes)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), target)) + 1]
    return np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes


PERIODS = np.array([1, 2, 4, 8, 16, 0], dtype=np.uint64)  # 0 = never changes
PERIOD_P = np.cumsum([0.08, 0.06, 0.06, 0.05, 0.05, 0.70])


def signatures(g: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(len(g), 256) uint32 signatures and exact hashes of the documents with global indices g."""
    dup = g < starts[-1] + sizes[-1]
    c = np.searchsorted(starts, g, side="right") - 1
    pos = (g - starts[c]).astype(np.uint64)
    c = c.astype(np.uint64)
    exact_cluster = (mix(c, np.uint64(99)) % np.uint64(5)) == 0
    slots = np.arange(PERM, dtype=np.uint64)[None, :]
    u = (mix(c[:, None], slots, np.uint64(1)) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    period = PERIODS[np.searchsorted(PERIOD_P, u)]
    period[exact_cluster] = 0
    offset = mix(c[:, None], slots, np.uint64(2)) % np.maximum(period, np.uint64(1))
    block = np.where(period > 0, (pos[:, None] + offset) // np.maximum(period, np.uint64(1)), np.uint64(0))
    sig = mix(c[:, None], slots, block, np.uint64(3))
    single = ~dup
    sig[single] = mix(g[single, None].astype(np.uint64) + np.uint64(1 << 40), slots, np.uint64(4))
    exact = np.where(dup & exact_cluster, mix(c, np.uint64(5)), mix(g.astype(np.uint64), np.uint64(6)))
    return (sig & np.uint64(0xFFFFFFFF)).astype(np.uint32), exact


def write_signatures(n: int, out: Path) -> None:
    from corpus_tools.dedup import files
    from corpus_tools.dedup.minhash import MinhashParams, band_hashes, signature_schema

    params = MinhashParams()
    starts, sizes = layout(n)
    for f in range(FILES):
        g = np.arange(f, n, FILES, dtype=np.int64)
        parts = []
        for piece in np.array_split(g, max(1, len(g) // 50000)):
            sig, exact = signatures(piece, starts, sizes)
            bands = band_hashes(sig, BANDS, ROWS)
            ids = [f"{h:016x}{x:08x}" for h, x in zip(mix(piece.astype(np.uint64), np.uint64(8)).tolist(), piece.tolist())]
            cols = {"id": pa.array(ids), "exact": pa.array(exact),
                    "sig": pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * PERM), len(ids),
                                                                [None, pa.py_buffer(sig.astype("<u4").tobytes())])}
            cols.update({c: pa.array(bands[:, j]) for j, c in enumerate(params.band_columns())})
            parts.append(pa.table(cols, schema=signature_schema(params)))
        files.write_arrow(str(out / "dedup" / "signatures" / f"lang={LANG}" / f"part-{f:05d}.parquet"), pa.concat_tables(parts))


def task_usage() -> dict:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "rss_mb": hwm / 1024}


def run_child(out: str, kind: str, k: int, rank: int, tasks: int, ranges: int, partition_edges: int) -> dict:
    from corpus_tools.dedup.buckets import MinhashBuckets
    from corpus_tools.dedup.clusters import ClusterOutput, ClusterRound, ClusterScatter

    step = {"buckets": lambda: MinhashBuckets(out, ranges=ranges), "scatter": lambda: ClusterScatter(out, partition_edges),
            "round": lambda: ClusterRound(out, k, partition_edges), "out": lambda: ClusterOutput(out, partition_edges)}[kind]()
    base = task_usage()
    t = time.time()
    for _ in step.run(None, rank, tasks):
        pass
    used = task_usage()
    return {"wall_s": time.time() - t, "cpu_s": used["cpu_s"] - base["cpu_s"], "rss_mb": used["rss_mb"],
            "start_rss_mb": base["rss_mb"]}


def phase(out: Path, kind: str, k: int, tasks: int, ranges: int, partition_edges: int) -> dict:
    runs = []
    for rank in range(tasks):
        cmd = [sys.executable, __file__, "--child", json.dumps([str(out), kind, k, rank, tasks, ranges, partition_edges])]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            raise SystemExit(f"{kind} {k} rank {rank} failed:\n{res.stderr[-3000:]}")
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return {"wall_s": max(r["wall_s"] for r in runs), "cpu_s": sum(r["cpu_s"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs), "tasks": tasks}


def clusters_digest(out: Path) -> tuple[str, int, int]:
    import pyarrow.parquet as pq

    t = pq.read_table(out / "dedup" / "clusters" / f"lang={LANG}").sort_by([("old", "ascending"), ("id", "ascending")])
    t = t.select(["id", "old", "rep_id", "rep_old", "cluster_id", "cluster_size", "jaccard", "exact"])
    h = hashlib.sha256()
    for batch in t.to_batches(100_000):
        for col in batch.columns:
            h.update(str(col.to_pylist()).encode())
    removed = t.num_rows - len(set(t.column("rep_id").to_pylist()))
    return h.hexdigest()[:16], t.num_rows, removed


def bench_size(n: int, task_counts: list[int], tmp: str | None) -> list[dict]:
    from corpus_tools.dedup.clusters import ClusterRound

    root = Path(tempfile.mkdtemp(prefix="dedup-tasks-", dir=tmp))
    rows = []
    try:
        t = time.time()
        write_signatures(n, root / "base")
        print(f"{n}: signatures written in {time.time() - t:.0f} s", flush=True)
        reference = None
        for tasks in task_counts:
            out = root / f"t{tasks}"
            shutil.rmtree(out, ignore_errors=True)
            (out / "dedup").mkdir(parents=True)
            (out / "dedup" / "signatures").symlink_to(root / "base" / "dedup" / "signatures")
            res = [("buckets", phase(out, "buckets", 0, tasks, RANGES, 1))]
            import pyarrow.parquet as pq

            edges = sum(pq.ParquetFile(p).metadata.num_rows for p in (out / "dedup" / "edges").rglob("*.parquet"))
            pe = max(1, math.ceil(edges / tasks))
            res.append(("clusters scatter", phase(out, "scatter", 0, tasks, tasks, pe)))
            k = 1
            while ClusterRound(str(out), k, pe).units():
                res.append((f"clusters round {k}", phase(out, "round", k, tasks, tasks, pe)))
                k += 1
            res.append(("clusters out", phase(out, "out", 0, tasks, tasks, pe)))
            digest, clustered, removed = clusters_digest(out)
            reference = reference or digest
            for name, r in res:
                rows.append({"docs": n, "tasks": tasks, "phase": name, **r})
                print(n, tasks, name, json.dumps(r), flush=True)
            rows.append({"docs": n, "tasks": tasks, "phase": "result", "edges": edges, "partitions": tasks,
                         "rounds": k - 1, "clustered": clustered, "removed": removed, "digest": digest,
                         "same_as_1": digest == reference})
            print(rows[-1], flush=True)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| documents | tasks | phase | wall s (slowest task) | CPU s (all tasks) | peak RSS MiB (largest task) |",
             "|---|---|---|---|---|---|"]
    results = []
    for r in rows:
        if r["phase"] == "result":
            results.append(f"- {r['docs']:,} documents, {r['tasks']} task(s): {r['edges']:,} edges, {r['partitions']} "
                           f"partition(s), {r['rounds']} round(s), {r['clustered']:,} documents in clusters, "
                           f"{r['removed']:,} removed; clusters digest `{r['digest']}`"
                           f"{' = 1 task' if r['same_as_1'] else ' **differs from 1 task**'}")
            continue
        lines.append(f"| {r['docs']:,} | {r['tasks']} | {r['phase']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['rss_mb']:.0f} |")
        if r["phase"] == "clusters out":
            sub = [x for x in rows if x["docs"] == r["docs"] and x["tasks"] == r["tasks"] and x["phase"] != "result"]
            lines.append(f"| {r['docs']:,} | {r['tasks']} | **all phases** | {sum(x['wall_s'] for x in sub):.1f} | "
                         f"{sum(x['cpu_s'] for x in sub):.1f} | {max(x['rss_mb'] for x in sub):.0f} |")
    return "\n".join(lines + [""] + results)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--tasks", default="1,4,16")
    ap.add_argument("--tmp", default=None, help="scratch directory (~1.5 GB per million documents)")
    ap.add_argument("--record", action="store_true", help="write benchmarks/RESULTS.md section dedup_tasks")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        from loguru import logger

        logger.remove()
        print(json.dumps(run_child(*json.loads(args.child))))
        return
    rows = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        rows += bench_size(n, [int(t) for t in args.tasks.split(",")], args.tmp)
    body = ("Synthetic signatures in one language (power-law cluster sizes, 80% of clusters chains, 20% exact "
            "copies; see the script's docstring). T tasks = the 16 bucket hash ranges spread over T tasks, and T cluster partitions; every "
            "task ran in its own process, one after the other, under `nice -n 10` on a machine shared with other "
            "jobs (so wall times are indicative; CPU and RSS are the task's own).\n\n" + table(rows))
    print(body)
    if args.record:
        from benchmarks._results import write_section

        write_section("dedup_tasks", "Dedup at scale: every phase at 1, 4 and 16 tasks", body)


if __name__ == "__main__":
    main()
