"""Cost of the quality stage: ms per document for all signals + all rules, vs datatrove filters, same texts.

    .venv/bin/python -m benchmarks.quality_cost [--input ../shared/data/warc/dev] [--repeat 3]

Texts: the dev crawl's target-language documents after trafilatura and lid.176 (benchmarks/quality_compare.py
`load_docs`). Each contender runs over all texts `--repeat` times after a warm-up pass (spaCy blank models
loaded); the best pass counts. Times are CPU time of this process (time.process_time): the benchmark machine
is shared and wall time swings with the other users. All contenders use the same per-language tokenizer
(corpus_tools.quality.text.word_tokenizer), so the comparison is of the work done per document:
- ours: `compute_signals` (every Gopher, FineWeb and C4 measure, one word split) + `decide` (all four rules);
- datatrove GopherRepetitionFilter alone (the FineWeb recipe's most expensive filter);
- datatrove's FineWeb-2 trio (GopherRepetition + FineWebQuality + GopherQuality), each splitting words itself.
Writes benchmarks/RESULTS.md section quality_cost.
"""

from __future__ import annotations

import argparse
import time

from datatrove.data import Document
from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

from benchmarks.quality_compare import DEV, load_docs
from corpus_tools.quality.rules import RULES, decide
from corpus_tools.quality.signals import compute_signals
from corpus_tools.quality.thresholds import load_thresholds
from corpus_tools.quality.text import split_words, word_tokenizer


def timed_ms(fn, docs, repeat: int) -> tuple[float, float]:
    """(first pass, best pass) in CPU ms per document. Before the first pass only the tokenizers are loaded
    (one short document per language), so the first pass sees every text for the first time."""
    seen = set()
    for doc in docs:
        if doc.metadata["lang"] not in seen:
            seen.add(doc.metadata["lang"])
            fn(Document(text="warm up .", id="w", metadata={"lang": doc.metadata["lang"]}))
    passes = []
    for _ in range(repeat):
        start = time.process_time()
        for doc in docs:
            fn(doc)
        passes.append(time.process_time() - start)
    return passes[0] * 1000 / len(docs), min(passes) * 1000 / len(docs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", default=str(DEV))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = load_docs([args.input])
    thresholds = load_thresholds()
    rules = tuple(RULES)
    repetition = {}
    trio = {}
    for doc in docs:
        lang = doc.metadata["lang"]
        tok = word_tokenizer(lang)
        repetition.setdefault(lang, GopherRepetitionFilter(language=tok))
        trio.setdefault(lang, (GopherRepetitionFilter(language=tok), FineWebQualityFilter(language=tok),
                               GopherQualityFilter(language=tok)))

    def ours(doc):
        lang = doc.metadata["lang"]
        decide(compute_signals(doc.text, lang, thresholds[lang].stop_words), lang, thresholds, rules)

    def words_only(doc):
        word_tokenizer(doc.metadata["lang"]).word_tokenize(doc.text)

    def our_words_only(doc):
        split_words(doc.text, doc.metadata["lang"])

    def dt_repetition(doc):
        repetition[doc.metadata["lang"]].filter(doc)

    def dt_trio(doc):
        for f in trio[doc.metadata["lang"]]:
            f.filter(doc)  # all three on every document (each returns at its own first failed check)

    chars = sum(len(d.text) for d in docs) / len(docs)
    # ours first, so that its first pass runs with an empty spaCy word cache
    results = {name: timed_ms(fn, docs, args.repeat) for name, fn in (
        ("ours: all signals + 4 rules (one word split)", ours),
        ("word split alone, ours (spaCy tokenizer only, same tokens)", our_words_only),
        ("word split alone, datatrove word_tokenize (spaCy blank + sentencizer)", words_only),
        ("datatrove GopherRepetitionFilter alone", dt_repetition),
        ("datatrove GopherRepetition + FineWebQuality + GopherQuality", dt_trio))}
    ref = results["datatrove GopherRepetitionFilter alone"]
    rows = ["| what | ms / doc, first pass | vs GopherRepetitionFilter | ms / doc, best pass | vs GopherRepetitionFilter |",
            "|---|---:|---:|---:|---:|"]
    rows += [f"| {name} | {first:.2f} | {first / ref[0]:.2f}x | {best:.2f} | {best / ref[1]:.2f}x |"
             for name, (first, best) in results.items()]
    body = "\n".join([f"{len(docs)} documents from `{args.input}` (mean {chars:,.0f} characters), best of "
                      f"{args.repeat} passes, CPU ms of one process. First pass: every text seen for the first time; datatrove's "
                      "tokenizer empties spaCy's word cache after each document (memory_zone), ours keeps it.", "", *rows])
    print(body)
    from benchmarks._results import write_section

    write_section("quality_cost", "Quality stage cost: all signals + rules vs datatrove filters", body)


if __name__ == "__main__":
    main()
