"""Dedup quality on planted near-duplicates of real articles, against brute-force exact Jaccard.

Run:  .venv/bin/python benchmarks/dedup_quality.py [--articles N]
Builds the corpus of `corpus_tools.dedup.evaluate` (every Scrapinghub ground-truth article with >= 150 words,
plus one variant per word-edit rate), runs the four dedup steps with the default parameters, and prints
recall / precision per definition and the exact Jaccard each edit rate produced. Records the figures in
benchmarks/RESULTS.md (section dedup_quality).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._results import write_section  # noqa: E402
from corpus_tools.dedup import evaluate as ev  # noqa: E402
from corpus_tools.dedup.exact import normalise_text  # noqa: E402
from corpus_tools.dedup.minhash import MinhashParams, shingles  # noqa: E402

GROUND_TRUTH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "extraction" / "scrapinghub" / "ground-truth.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=0, help="number of articles (default all)")
    ap.add_argument("--tasks", type=int, default=4)
    args = ap.parse_args()
    articles = ev.load_articles(GROUND_TRUTH)
    articles = articles[: args.articles] if args.articles else articles
    docs = ev.planted_corpus(articles)
    params = MinhashParams()
    src = {d["family"]: d["text"] for d in docs if d["rate"] is None}
    per_rate: dict = {}
    for d in docs:
        if d["rate"] is not None:
            a = shingles(normalise_text(d["text"]), params.ngram)
            b = shingles(normalise_text(src[d["family"]]), params.ngram)
            per_rate.setdefault(d["rate"], []).append(ev.jaccard(a, b))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        ev.write_staging(out, docs, files=4)
        started = time.time()
        ev.run_steps(ev.dedup_steps(str(out), params), tasks=args.tasks)
        wall = time.time() - started
        strict = ev.score(out, docs, params)
        loose = ev.score(out, docs, params, slack=0.05)
    lines = [
        f"Corpus: {len(articles)} Scrapinghub ground-truth articles (>= 150 words) + one variant per word-edit rate "
        f"= {len(docs)} documents, one language; default parameters ({params.bands} bands x {params.rows} rows, "
        f"verified at estimated Jaccard >= {params.threshold}, word {params.ngram}-grams). Dedup wall time "
        f"{wall:.1f} s ({args.tasks} tasks in one process).",
        "",
        "| edit rate | exact Jaccard with source: min / mean / max |",
        "|---|---|",
    ]
    for rate, js in sorted(per_rate.items()):
        label = "0 (upper-cased copy)" if rate == 0 else f"{rate:.3f}"
        lines.append(f"| {label} | {min(js):.3f} / {statistics.mean(js):.3f} / {max(js):.3f} |")
    lines += [
        "",
        "| metric (vs brute-force exact Jaccard on the same shingles) | value |",
        "|---|---|",
        f"| pairs with exact Jaccard >= 0.85 | {strict['true_pairs']} |",
        f"| **pair recall** (such pairs that end in one cluster) | **{strict['pair_recall']:.4f}** |",
        f"| verified edges | {strict['edges']} |",
        f"| **edge precision** (edges with exact Jaccard >= 0.80) | **{strict['edge_precision']:.4f}** |",
        f"| edge precision at >= 0.75 | {loose['edge_precision']:.4f} |",
        f"| documents removed | {strict['removed']} |",
        f"| **removal precision** (removed doc vs its kept representative >= 0.80) | **{strict['removal_precision']:.4f}** |",
        f"| removal precision at >= 0.75 | {loose['removal_precision']:.4f} |",
        f"| cluster pair precision (all pairs inside a cluster >= 0.80; chaining lowers it) | {strict['cluster_pair_precision']:.4f} |",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("dedup_quality", "Dedup quality: planted near-duplicates vs brute force", body)
    ok = strict["pair_recall"] >= 0.95 and strict["edge_precision"] >= 0.95 and strict["removal_precision"] >= 0.95
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
