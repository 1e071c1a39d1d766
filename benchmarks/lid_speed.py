"""LID speed on ~1 kB documents: the combined identifier against each backend, one process (one core).

    .venv/bin/python benchmarks/lid_speed.py [--docs 2000]

Documents are built from ../shared/data/lid/ud_treebanks.tsv by joining consecutive sentences of one
language until ~1,000 characters (a fixed, seeded sample over all its languages). Records docs/s per
backend and for `CombinedLid`, how often the cascade ran each backend, and the ratio to lid176 alone,
in benchmarks/RESULTS.md (section lid_speed). Target (issue 12): >= 5,000 docs/s per core.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402
from corpus_tools.lid.backends import get_backend  # noqa: E402
from corpus_tools.lid.combine import CombinedLid  # noqa: E402
from corpus_tools.lid.evaluate import read_dev  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "lid" / "ud_treebanks.tsv"


def make_docs(n: int, size: int = 1000, seed: int = 0) -> list[str]:
    by_lang: dict[str, list[str]] = {}
    for code, text in read_dev(DEV):
        by_lang.setdefault(code, []).append(text)
    docs, rng = [], random.Random(seed)
    langs = sorted(by_lang)
    while len(docs) < n:
        sents = by_lang[rng.choice(langs)]
        i, parts = rng.randrange(len(sents)), []
        while sum(len(p) + 1 for p in parts) < size:
            parts.append(sents[i % len(sents)])
            i += 1
        docs.append(" ".join(parts)[: size + 200])
    return docs


def rate(fn, docs) -> float:
    t0 = time.perf_counter()
    for d in docs:
        fn(d)
    return len(docs) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000)
    args = ap.parse_args()
    docs = make_docs(args.docs)
    lid = CombinedLid()
    for name in lid.order:            # load every model before timing
        lid.backend(name).predict("warm up")
    rows, rates = [], {}
    for name in lid.order:
        be = lid.backend(name)
        sample = docs if name != "lingua" else docs[: max(100, len(docs) // 10)]
        rates[name] = rate(lambda d: be.predict(d, k=3), sample)
    calls = Counter()

    def run(d):
        calls.update(lid.identify(d).backends_run)

    rates["combined"] = rate(run, docs)
    for name, r in rates.items():
        rows.append(f"| {name} | {r:,.0f} | {r / rates['lid176']:.2f} |")
    mean_chars = sum(map(len, docs)) / len(docs)
    md = "\n".join([
        f"{len(docs)} documents of ~{mean_chars:.0f} characters (UD sentences joined per language), one process.",
        "", "| identifier | docs/s | ratio to lid176 |", "|---|---|---|", *rows, "",
        "Cascade calls: " + ", ".join(f"{b} {calls[b]} ({100 * calls[b] / len(docs):.0f}%)" for b in lid.order),
        f"Target >= 5,000 docs/s per core: {'met' if rates['combined'] >= 5000 else 'NOT met'}.",
    ])
    write_section("lid_speed", "LID speed, ~1 kB documents", md)
    print(md)


if __name__ == "__main__":
    main()
