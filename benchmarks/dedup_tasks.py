"""Dedup at 1M-16M documents in one language: wall, CPU and peak RSS of every task of every phase at 1, 4, 16 tasks.

Run:  nice -n 10 .venv/bin/python benchmarks/dedup_tasks.py [--sizes 1000000] [--tasks 1,4,16] [--record]
(`benchmarks/dedup_scale.py` runs it too, at 1M, so `make bench` reaches it.)
Options: --partition-edges N (edges per cluster partition), --tmp DIR, --note TEXT (load note for the
record), --reference-max N (largest edge count also checked against plain union-find), --signatures DIR.

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
- 50,000 documents per signature file (document i in file i mod files), as a staging file is bounded by
  its task, not by the language.

The layout is the pipeline's, fixed by the data: 16 bucket hash ranges (units) and P = ceil(edges /
`--partition-edges`) cluster partitions (default: the pipeline's `dedup_partition_edges`, 1,000,000), so a
task's memory is bounded by its unit, not by the language. T tasks only decide how those units are spread
(task t takes units t, t+T, ...; a task with no unit is not started). Every task of every phase (buckets,
scatter, each round, output) runs in a fresh process, one after the other, so its peak RSS (VmHWM) and CPU
time are its own; "wall" of a phase is its slowest task (the phase's time with T cores). For every T the
edge files (bytes) and the clusters (row for row) are compared with the first T, and for the first T the
clusters are checked against plain connected components over all edges in the driver (`--reference-max`).

`--record` writes RESULTS.md section dedup_tasks after each task count of each size; the rows of the
(size, task count) pairs not run now are kept (as JSON in a comment of the section), so sizes and task
counts can be recorded by separate runs (`--signatures` reuses the signatures of an earlier run of the same
size); every task count is compared with the fewest tasks recorded for its size.
Scratch space: ~1.5 GB per million documents (`--tmp`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
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
FILE_ROWS = 50_000  # documents per signature file: the pipeline writes one per staging file, whatever the language's size
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
    files_n = max(1, math.ceil(n / FILE_ROWS))
    for f in range(files_n):
        g = np.arange(f, n, files_n, dtype=np.int64)
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


def run_child(out: str, kind: str, k: int, rank: int, tasks: int, partition_edges: int) -> dict:
    step = make_step(out, kind, k, partition_edges)
    base = task_usage()
    t = time.time()
    for _ in step.run(None, rank, tasks):
        pass
    used = task_usage()
    return {"wall_s": time.time() - t, "cpu_s": used["cpu_s"] - base["cpu_s"], "rss_mb": used["rss_mb"],
            "start_rss_mb": base["rss_mb"]}


def make_step(out: str, kind: str, k: int, partition_edges: int):
    from corpus_tools.dedup.buckets import MinhashBuckets
    from corpus_tools.dedup.clusters import ClusterOutput, ClusterRound, ClusterScatter

    return {"buckets": lambda: MinhashBuckets(out, ranges=RANGES), "scatter": lambda: ClusterScatter(out, partition_edges),
            "round": lambda: ClusterRound(out, k, partition_edges), "out": lambda: ClusterOutput(out, partition_edges)}[kind]()


def phase(out: Path, kind: str, k: int, tasks: int, partition_edges: int) -> dict:
    """Every rank of a `tasks`-task phase, one after the other (ranks that get no unit are not started)."""
    units = len(make_step(str(out), kind, k, partition_edges).units())
    runs = []
    for rank in range(min(tasks, units)):
        cmd = [sys.executable, __file__, "--child", json.dumps([str(out), kind, k, rank, tasks, partition_edges])]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            raise SystemExit(f"{kind} {k} rank {rank} failed:\n{res.stderr[-3000:]}")
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return {"wall_s": max(r["wall_s"] for r in runs), "cpu_s": sum(r["cpu_s"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs), "busy": len(runs), "units": units}


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


def edges_digest(out: Path) -> str:
    """sha256 over the edge files' bytes, in name order (the files depend on the data only)."""
    h = hashlib.sha256()
    for f in sorted((out / "dedup" / "edges").rglob("*.parquet")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def reference_check(out: Path) -> bool:
    """Plain single-machine connected components over all edges: the same (id, representative, size) rows?"""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from corpus_tools.dedup.clusters import encode, star_labels

    e = pq.read_table(out / "dedup" / "edges" / f"lang={LANG}", columns=["a", "b"])
    e = e.filter(pc.not_equal(e.column("a"), e.column("b")))
    keys, a, b = encode(e.column("a").combine_chunks(), e.column("b").combine_chunks())
    del e
    label = star_labels(len(keys), a, b)
    size = np.bincount(label, minlength=len(keys))
    ref = pa.table({"id": pc.utf8_slice_codeunits(keys, 1), "rep_id": pc.utf8_slice_codeunits(keys.take(pa.array(label)), 1),
                    "cluster_size": pa.array(size[label].astype(np.int32))})
    got = pq.read_table(out / "dedup" / "clusters" / f"lang={LANG}", columns=["id", "rep_id", "cluster_size"])
    return got.sort_by("id").equals(ref.sort_by("id"))


def bench_size(n: int, task_counts: list[int], tmp: str | None, partition_edges: int, reference_max: int,
               signatures: str | None = None, done=lambda rows: None) -> list[dict]:
    import pyarrow.parquet as pq
    from corpus_tools.dedup.clusters import ClusterRound

    root = Path(tempfile.mkdtemp(prefix="dedup-tasks-", dir=tmp))
    rows = []
    try:
        sig_dir = root / "base" / "dedup" / "signatures"
        if signatures:
            sig_dir = Path(signatures).resolve()
        else:
            t = time.time()
            write_signatures(n, root / "base")
            print(f"{n}: signatures written in {time.time() - t:.0f} s", flush=True)
        reference = None
        for tasks in task_counts:
            out = root / f"t{tasks}"
            shutil.rmtree(out, ignore_errors=True)
            (out / "dedup").mkdir(parents=True)
            (out / "dedup" / "signatures").symlink_to(sig_dir)
            res = [("buckets", phase(out, "buckets", 0, tasks, partition_edges))]
            edges = sum(pq.ParquetFile(p).metadata.num_rows for p in (out / "dedup" / "edges").rglob("*.parquet"))
            parts = max(1, math.ceil(edges / partition_edges))
            res.append(("clusters scatter", phase(out, "scatter", 0, tasks, partition_edges)))
            k = 1
            while ClusterRound(str(out), k, partition_edges).units():
                res.append((f"clusters round {k}", phase(out, "round", k, tasks, partition_edges)))
                k += 1
            res.append(("clusters out", phase(out, "out", 0, tasks, partition_edges)))
            digest, clustered, removed = clusters_digest(out)
            edigest = edges_digest(out)
            reference = reference or (digest, edigest)
            for name, r in res:
                rows.append({"docs": n, "tasks": tasks, "phase": name, **r})
                print(n, tasks, name, json.dumps(r), flush=True)
            plain = reference_check(out) if edges <= reference_max and tasks == task_counts[0] else None
            rows.append({"docs": n, "tasks": tasks, "phase": "result", "edges": edges, "partitions": parts,
                         "partition_edges": partition_edges, "rounds": k - 1, "clustered": clustered,
                         "removed": removed, "digest": digest, "edges_digest": edigest,
                         "same_as_first": (digest, edigest) == reference, "first_tasks": task_counts[0],
                         "plain_union_find": plain})
            print(rows[-1], flush=True)
            done([r for r in rows if r["tasks"] == tasks])
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| documents | tasks | phase | units | tasks with work | wall s (slowest task) | CPU s (all tasks) | "
             "peak RSS MiB (largest task) |", "|---|---|---|---|---|---|---|---|"]
    results = []
    first = {}  # per size, the result of the fewest tasks: every other task count is compared with it
    for r in sorted((r for r in rows if r["phase"] == "result"), key=lambda r: r["tasks"]):
        first.setdefault(r["docs"], r)
    for r in rows:
        if r["phase"] == "result":
            f = first[r["docs"]]
            r = dict(r, first_tasks=f["tasks"], same_as_first=(r["digest"], r["edges_digest"]) == (f["digest"], f["edges_digest"]))
            same = " = " if r["same_as_first"] else " **differs from** "
            plain = {True: "; equal to plain union-find over all edges", False: "; **differs from plain union-find**",
                     None: ""}[r.get("plain_union_find")]
            results.append(f"- {r['docs']:,} documents, {r['tasks']} task(s): {r['edges']:,} edges, {r['partitions']} "
                           f"partition(s) of <= {r['partition_edges']:,} edges, {r['rounds']} round(s), "
                           f"{r['clustered']:,} documents in clusters, {r['removed']:,} removed; clusters digest "
                           f"`{r['digest']}`, edges digest `{r['edges_digest']}`{same}{r['first_tasks']} task(s){plain}")
            continue
        lines.append(f"| {r['docs']:,} | {r['tasks']} | {r['phase']} | {r.get('units', '')} | {r.get('busy', '')} | "
                     f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['rss_mb']:.0f} |")
        if r["phase"] == "clusters out":
            sub = [x for x in rows if x["docs"] == r["docs"] and x["tasks"] == r["tasks"] and x["phase"] != "result"]
            lines.append(f"| {r['docs']:,} | {r['tasks']} | **all phases** | | | {sum(x['wall_s'] for x in sub):.1f} | "
                         f"{sum(x['cpu_s'] for x in sub):.1f} | {max(x['rss_mb'] for x in sub):.0f} |")
    return "\n".join(lines + [""] + results)


ROWS_TAG = "<!-- dedup_tasks rows: "


def recorded_rows() -> list[dict]:
    """The rows kept (as JSON in a comment) in the RESULTS.md section, so that sizes can be recorded one by one."""
    from benchmarks._results import RESULTS

    text = RESULTS.read_text() if RESULTS.exists() else ""
    m = re.search(re.escape(ROWS_TAG) + r"(.*?) -->", text)
    return json.loads(m.group(1)) if m else []


def record(rows: list[dict], note: str) -> None:
    """Section dedup_tasks: rows of (size, task count) measured now replace the recorded ones, the others are kept."""
    from benchmarks._results import write_section

    runs = {(r["docs"], r["tasks"]) for r in rows}
    rows = sorted([r for r in recorded_rows() if (r["docs"], r["tasks"]) not in runs] + rows,
                  key=lambda r: (r["docs"], r["tasks"]))
    stamps = sorted({(r["docs"], r["tasks"], r.get("when", "")) for r in rows if r["phase"] == "result"})
    body = ("Synthetic signatures in one language (power-law cluster sizes, 80% of clusters chains, 20% exact "
            "copies; see the script's docstring). Every size runs the pipeline's layout: 16 bucket hash ranges and "
            "P = ceil(edges / partition_edges) cluster partitions (the pipeline's default 1,000,000 edges), both "
            "fixed by the data; T tasks only spread those units (task t takes units t, t+T, ...). Every task ran in "
            "its own process, one after the other, under `nice -n 10` on a machine shared with other jobs (so wall "
            "times are indicative; CPU and peak RSS (VmHWM) are the task's own). 'all phases' wall is the sum of "
            "the phases' slowest tasks, i.e. the time with T cores.\n\n"
            + "Started: " + "; ".join(f"{d:,} documents at {t} task(s) {w}" for d, t, w in stamps) + (f". {note}" if note else "")
            + "\n\n" + table(rows) + "\n\n" + ROWS_TAG + json.dumps(rows) + " -->")
    write_section("dedup_tasks", "Dedup at scale: every phase at 1, 4 and 16 tasks", body)


def main(argv=None) -> None:
    from corpus_tools.dedup.clusters import PARTITION_EDGES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--tasks", default="1,4,16")
    ap.add_argument("--partition-edges", type=int, default=PARTITION_EDGES, help="edges per cluster partition")
    ap.add_argument("--reference-max", type=int, default=20_000_000,
                    help="also check against plain union-find (in the driver) up to this many edges")
    ap.add_argument("--tmp", default=None, help="scratch directory (~1.5 GB per million documents)")
    ap.add_argument("--note", default="", help="load note for the record")
    ap.add_argument("--signatures", default=None,
                    help="use this dedup/signatures directory (written by an earlier run of the same size) instead of writing one")
    ap.add_argument("--record", action="store_true",
                    help="write benchmarks/RESULTS.md section dedup_tasks after each size (other sizes' rows are kept)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        from loguru import logger

        logger.remove()
        print(json.dumps(run_child(*json.loads(args.child))))
        return
    tasks = [int(t) for t in args.tasks.split(",")]
    for n in [int(s) for s in args.sizes.split(",") if s]:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        done = (lambda rows: record([dict(r, when=when) for r in rows], args.note)) if args.record else (lambda rows: None)
        rows = bench_size(n, tasks, args.tmp, args.partition_edges, args.reference_max, args.signatures, done)
        print(table(rows), flush=True)


if __name__ == "__main__":
    main()
