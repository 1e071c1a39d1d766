"""Dedup at scale: signature throughput, and clustering wall time / peak RSS, ours vs datatrove's MinHash.

Run:  .venv/bin/python benchmarks/dedup_scale.py [--sizes 200000,1000000] [--sig-docs 2000]
          [--tasks-sizes 1000000] [--no-record] [--tmp DIR]

1. Signatures, one process on one core: documents built from the Scrapinghub ground-truth articles (each
   article's words reshuffled into a new ~500-word document), through `corpus_tools.dedup.minhash`
   (datasketch) and through datatrove's `MinhashDedupSignature` with the same 32 x 8 layout.
2. Clustering, for each size: synthetic signatures (random 256 x uint32 rows; 10% of the documents are
   copies of another with 10% of their values redrawn, i.e. estimated Jaccard ~0.9) are written once in
   each tool's own format, then the bucket and cluster phases of each tool run in a fresh process each,
   one task, so the peak RSS printed is that phase's. Ours also runs with `ranges=4` (the same phase split
   into four units) to show the memory knob. datatrove runs its 32 bucket tasks one after the other and
   then its single-task `MinhashDedupCluster`.
3. Then `benchmarks/dedup_tasks.py` at `--tasks-sizes` (default 1M; empty: skipped) and 1, 4, 16 tasks.
Records the figures in benchmarks/RESULTS.md (section dedup_scale; dedup_tasks replaces only the rows of
the sizes it ran), unless `--no-record` (a quick check that the script still runs).
"""

from __future__ import annotations

import argparse
import json
import random
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

from benchmarks._results import peak_rss_mb  # noqa: E402

BANDS, ROWS = 32, 8
PERM = BANDS * ROWS
FILES = 20
GROUND_TRUTH = ROOT.parent / "shared" / "data" / "extraction" / "scrapinghub" / "ground-truth.json"


def synthetic_texts(n: int, seed: int = 1) -> list[str]:
    from corpus_tools.dedup.evaluate import load_articles

    words = [a.split() for a in load_articles(GROUND_TRUTH)]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        w = words[i % len(words)][:]
        rng.shuffle(w)
        out.append(" ".join(w[:500]))
    return out


def bench_signatures(n: int) -> dict:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from corpus_tools.dedup.minhash import MinhashParams, Signer, signature_table

    texts = synthetic_texts(n)
    t = time.process_time()
    signature_table([str(i) for i in range(n)], texts, Signer(MinhashParams()))
    ours = n / (time.process_time() - t)
    with tempfile.TemporaryDirectory() as tmp:
        # datatrove defaults (xxhash 64-bit shingle hashes; xxhash 3.x, as 4.x rejects str) with our 32 x 8 layout
        cfg = MinhashConfig(num_buckets=BANDS, hashes_per_bucket=ROWS)
        step = MinhashDedupSignature(output_folder=tmp, config=cfg)
        docs = [Document(text=x, id=str(i)) for i, x in enumerate(texts)]
        t = time.process_time()
        step.run(iter(docs), rank=0, world_size=1)
        theirs = n / (time.process_time() - t)
    return {"docs": n, "ours_docs_per_cpu_s": ours, "datatrove_docs_per_cpu_s": theirs}


def synthetic_signatures(n: int, seed: int = 5):
    """Yield (file index, ids, sig matrix) in FILES chunks; 10% of rows are near-copies of earlier rows."""
    rng = np.random.default_rng(seed)
    per = -(-n // FILES)
    bases = []
    for f in range(FILES):
        m = min(per, n - f * per)
        sig = rng.integers(0, 2**32 - 1, size=(m, PERM), dtype=np.uint32)
        if bases:
            dup = rng.random(m) < 0.10
            pool = np.concatenate(bases)
            src = pool[rng.integers(0, len(pool), size=int(dup.sum()))].copy()
            redraw = rng.random(src.shape) < 0.10
            src[redraw] = rng.integers(0, 2**32 - 1, size=int(redraw.sum()), dtype=np.uint32)
            sig[dup] = src
        bases.append(sig[: min(m, 20000)])
        ids = [f"{f:04d}{i:012d}" for i in range(m)]
        yield f, ids, sig


def write_inputs(n: int, root: Path, datatrove: bool = True) -> None:
    from corpus_tools.dedup import files
    from corpus_tools.dedup.minhash import band_hashes, signature_schema, MinhashParams

    params = MinhashParams()
    for f, ids, sig in synthetic_signatures(n):
        bands = band_hashes(sig, BANDS, ROWS)
        cols = {"id": pa.array(ids), "exact": pa.array(np.arange(len(ids), dtype=np.uint64) + np.uint64(f << 40)),
                "sig": pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * PERM), len(ids), [None, pa.py_buffer(sig.astype("<u4").tobytes())])}
        for j, c in enumerate(params.band_columns()):
            cols[c] = pa.array(bands[:, j])
        files.write_arrow(str(root / "ours" / "dedup" / "signatures" / "lang=xxx_Latn" / f"part-{f:05d}.parquet"),
                          pa.table(cols, schema=signature_schema(params)))
        dtype = np.dtype([(f"field{i + 1}", "<u4") for i in range(ROWS)] + [(f"field{ROWS + 1}", "<u4")])
        for b in range(BANDS if datatrove else 0):
            rec = np.empty(len(ids), dtype=dtype)
            for i in range(ROWS):
                rec[f"field{i + 1}"] = sig[:, b * ROWS + i]
            rec[f"field{ROWS + 1}"] = np.arange(len(ids), dtype=np.uint32)
            rec.sort(order=dtype.names)
            path = root / "datatrove" / "sigs" / f"bucket_{b:03d}" / f"{f:05d}.minhash.sig"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rec.tobytes())


def run_phase(root: str, which: str) -> dict:
    """Child process: run one phase, report wall time and own peak RSS."""
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster
    from datatrove.utils.hashing import HashConfig

    from corpus_tools.dedup.buckets import MinhashBuckets
    from corpus_tools.dedup.clusters import DuplicateClusters

    out = str(Path(root) / "ours")
    cfg = MinhashConfig(num_buckets=BANDS, hashes_per_bucket=ROWS, hash_config=HashConfig(precision=32, hash_fc="sha1"))
    dt = Path(root) / "datatrove"
    t = time.time()
    stats = {}
    if which.startswith("ours_buckets"):
        ranges = int(which.rsplit("_", 1)[1])
        shutil.rmtree(Path(out) / "dedup" / "edges", ignore_errors=True)
        step = MinhashBuckets(out, ranges=ranges)
        for unit in step.units():   # one task doing every unit: memory is one unit's at a time
            step.process_unit(unit)
    elif which == "ours_clusters":
        from corpus_tools.dedup.evaluate import run_steps

        run_steps([DuplicateClusters(out)], tasks=1)
        import pyarrow.parquet as pq

        c = pq.read_table(Path(out) / "dedup" / "clusters" / "lang=xxx_Latn", columns=["id", "rep_id"])
        stats = {"clustered": c.num_rows, "removed": int(sum(1 for a, b in zip(c.column("id").to_pylist(), c.column("rep_id").to_pylist()) if a != b))}
    elif which == "datatrove_buckets":
        step = MinhashDedupBuckets(input_folder=str(dt / "sigs"), output_folder=str(dt / "buckets"), config=cfg)
        for rank in range(BANDS):
            step.run(None, rank=rank, world_size=BANDS)
    elif which == "datatrove_clusters":
        step = MinhashDedupCluster(input_folder=str(dt / "buckets"), output_folder=str(dt / "remove_ids"), config=cfg)
        step.run(None, 0, 1)
        removed = 0
        for p in (dt / "remove_ids").glob("*.remove"):
            removed += p.stat().st_size // 4
        stats = {"removed": removed}
    return {"wall_s": time.time() - t, "peak_rss_mb": peak_rss_mb(), **stats}


def child(root: Path, which: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", str(root), which], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"{which} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="200000,1000000")
    ap.add_argument("--sig-docs", type=int, default=1000)
    ap.add_argument("--datatrove-max", type=int, default=200000, help="largest size also run through datatrove")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", default=None, help="scratch directory (needs ~2.5 GB per million documents)")
    ap.add_argument("--tasks-sizes", default="1000000", help="sizes for benchmarks/dedup_tasks.py ('' to skip)")
    ap.add_argument("--no-record", action="store_true", help="print only, leave RESULTS.md alone")
    args = ap.parse_args()
    if args.child:
        from loguru import logger

        logger.remove()
        print(json.dumps(run_phase(*args.child)))
        return
    from benchmarks._results import write_section

    sig = bench_signatures(args.sig_docs)
    print(json.dumps(sig), flush=True)
    lines = [f"Signatures, one process, CPU time ({sig['docs']} ~500-word documents rebuilt from real articles, "
             f"{BANDS} x {ROWS} permutations): **ours {sig['ours_docs_per_cpu_s']:.0f} docs/s per core**, datatrove "
             f"MinhashDedupSignature (its defaults: xxhash, English word tokenizer) {sig['datatrove_docs_per_cpu_s']:.0f} docs/s per core "
             f"(ratio {sig['ours_docs_per_cpu_s'] / sig['datatrove_docs_per_cpu_s']:.2f}).", "",
             "Clustering on synthetic signatures (10% near-copies), one task per phase, each phase in a fresh process:", "",
             "| documents | phase | wall s | peak RSS MiB | result |", "|---|---|---|---|---|"]
    for n in [int(s) for s in args.sizes.split(",") if s]:
        root = Path(tempfile.mkdtemp(prefix="dedup-scale-", dir=args.tmp))
        try:
            t = time.time()
            write_inputs(n, root, datatrove=n <= args.datatrove_max)
            print(f"{n}: inputs written in {time.time() - t:.0f} s", flush=True)
            phases = ["ours_buckets_1", "ours_buckets_4", "ours_clusters"]
            phases += ["datatrove_buckets", "datatrove_clusters"] if n <= args.datatrove_max else []
            for which in phases:
                r = child(root, which)
                print(n, which, json.dumps(r), flush=True)
                extra = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("wall_s", "peak_rss_mb"))
                name = {"ours_buckets_1": "ours: buckets (ranges=1)", "ours_buckets_4": "ours: buckets (ranges=4)",
                        "ours_clusters": "ours: clusters (all rounds, one task)",
                        "datatrove_buckets": "datatrove: MinhashDedupBuckets x32",
                        "datatrove_clusters": "datatrove: MinhashDedupCluster"}[which]
                lines.append(f"| {n:,} | {name} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | {extra} |")
        finally:
            shutil.rmtree(root, ignore_errors=True)
    lines += ["", "Ours verifies every LSH candidate on the full signature (estimated Jaccard >= 0.8) before it "
              "becomes an edge; datatrove links every pair that shares a band. Ours is parallel in every phase "
              "(bucket units = language x hash range, cluster units = language x partition; see section dedup_tasks); datatrove's cluster phase is one task. "
              "The machine is shared with other jobs: wall times are indicative, ran once each."]
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        write_section("dedup_scale", "Dedup at scale: signatures and clustering vs datatrove MinHash", body)
    from benchmarks.dedup_tasks import main as tasks_main  # every phase at 1, 4, 16 tasks (section dedup_tasks)

    if args.tasks_sizes:
        tasks_main(["--sizes", args.tasks_sizes] + ([] if args.no_record else ["--record"])
                   + (["--tmp", args.tmp] if args.tmp else []))


if __name__ == "__main__":
    main()
