"""Per-language quality rules vs datatrove's FineWeb filters with English defaults, on the dev crawl.

    .venv/bin/python -m benchmarks.quality_compare [--input ../shared/data/warc/dev]

Reads the crawl through our reader, trafilatura and lid.176, then decides every target-language document
twice: (a) our QualitySignals + QualityRules (FineWeb-2 per-language thresholds, gopher_repetition_v1,
gopher_quality_v1, fineweb_quality_v1); (b) the FineWeb (English) recipe's filters exactly as datatrove
ships them: GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
FineWebQualityFilter(), English tokenizer and stop words, in that order. It also checks that our
gopher_repetition_v1, gopher_quality_v1 and fineweb_quality_v1 decisions agree with datatrove's filters configured with the same
per-language thresholds. Writes the tables to benchmarks/RESULTS.md (section quality_compare).
"""

from __future__ import annotations

import argparse
import copy
from collections import Counter, defaultdict
from pathlib import Path

from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)

from corpus_tools.core.document import is_excluded
from corpus_tools.quality.rules import decide
from corpus_tools.quality.signals import compute_signals
from corpus_tools.quality.thresholds import load_thresholds
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.stages.extract import TrafilaturaExtractor
from corpus_tools.stages.lid import FastTextLid
from corpus_tools.core.storage import expand_inputs
from corpus_tools.quality.text import word_tokenizer

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "warc" / "dev"


def load_docs(inputs: list[str]) -> list:
    """Target-language documents with text, as our pipeline has them just before the quality stage."""
    steps = [WarcRecordReader(expand_inputs(inputs)), TrafilaturaExtractor(), FastTextLid()]
    data = None
    for step in steps:
        data = step.run(data) if data is not None else step.run(None)
    return [d for d in data if not is_excluded(d)]


def fineweb_english(doc) -> str:
    """The first FineWeb (English) filter that drops `doc`, or "" when it passes."""
    doc = copy.deepcopy(doc)  # C4QualityFilter rewrites doc.text, as in the FineWeb recipe
    for name, f in (("gopher_repetition", GopherRepetitionFilter()), ("gopher_quality", GopherQualityFilter()),
                    ("c4", C4QualityFilter(filter_no_terminal_punct=False)), ("fineweb_quality", FineWebQualityFilter())):
        result = f.filter(doc)
        if result is not True and not (isinstance(result, tuple) and result[0]):
            return name
    return ""


def datatrove_same_thresholds(doc, lang: str) -> dict[str, bool]:
    """datatrove's Gopher and FineWeb filters with FineWeb-2's per-language values (as fineweb-2-pipeline.py sets them)."""
    t = load_thresholds()[lang]
    lang = word_tokenizer(lang)  # datatrove's own choice, except spaCy "xx" where datatrove wants Stanza
    rep = GopherRepetitionFilter(
        dup_line_frac=t.dup_line_frac, dup_para_frac=t.dup_para_frac or 0, dup_line_char_frac=t.dup_line_char_frac or 0,
        dup_para_char_frac=t.dup_para_char_frac or 0,
        top_n_grams=tuple((n, getattr(t, f"top_{n}_gram_frac")) for n in (2, 3, 4)),
        dup_n_grams=tuple((n, getattr(t, f"dup_{n}_gram_frac")) for n in range(5, 11)), language=lang)
    qual = GopherQualityFilter(
        min_avg_word_length=t.min_avg_word_length, max_avg_word_length=t.max_avg_word_length,
        max_non_alpha_words_ratio=t.min_alpha_words_ratio, stop_words=sorted(t.stop_words), language=lang)
    fw = FineWebQualityFilter(
        line_punct_thr=t.line_punct_thr, short_line_thr=t.short_line_thr if t.short_line_thr is not None else 999,
        char_duplicates_ratio=t.char_dup_ratio, new_line_ratio=t.new_line_ratio, language=lang)
    return {"gopher_repetition_v1": rep.filter(doc) is True, "gopher_quality_v1": qual.filter(doc) is True,
            "fineweb_quality_v1": fw.filter(doc) is True}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", default=str(DEV))
    args = ap.parse_args()
    docs = load_docs([args.input])
    thresholds = load_thresholds()
    per_lang: dict[str, Counter] = defaultdict(Counter)
    ours_rules, theirs_rules = Counter(), Counter()
    agree, compared = Counter(), Counter()
    for doc in docs:
        lang = doc.metadata["lang"]
        failures = decide(compute_signals(doc.text, lang), lang, thresholds)
        ours = failures[0].rule if failures else ""
        theirs = fineweb_english(doc)
        c = per_lang[lang]
        c["docs"] += 1
        c["ours_kept"] += not ours
        c["en_kept"] += not theirs
        ours_rules[ours or "kept"] += 1
        theirs_rules[theirs or "kept"] += 1
        failed = {f.rule for f in failures}
        for rule, passed in datatrove_same_thresholds(doc, lang).items():
            compared[rule] += 1
            agree[rule] += passed == (rule not in failed)
    total = Counter()
    rows = ["| language | docs | kept (ours, per-language) | dropped (ours) | kept (FineWeb English defaults) | dropped (FineWeb English) |",
            "|---|---:|---:|---:|---:|---:|"]
    for lang in sorted(per_lang, key=lambda k: (-per_lang[k]["docs"], k)):
        c = per_lang[lang]
        total.update(c)
        rows.append(f"| {lang} | {c['docs']} | {c['ours_kept']} | {c['docs'] - c['ours_kept']} | {c['en_kept']} | {c['docs'] - c['en_kept']} |")
    rows.append(f"| **all** | {total['docs']} | {total['ours_kept']} | {total['docs'] - total['ours_kept']} | "
                f"{total['en_kept']} | {total['docs'] - total['en_kept']} |")
    non_en = Counter()
    for lang, c in per_lang.items():
        if lang != "eng_Latn":
            non_en.update(c)
    rule_rows = ["| first failing rule | ours (per-language) | FineWeb English defaults |", "|---|---:|---:|"]
    for name in ("gopher_repetition", "gopher_quality", "c4", "fineweb_quality"):
        rule_rows.append(f"| {name} | {ours_rules.get(name + '_v1', 0)} | {theirs_rules.get(name, 0)} |")
    rule_rows.append(f"| kept | {ours_rules['kept']} | {theirs_rules['kept']} |")
    agree_rows = ["| rule | docs compared | same decision as datatrove with the same thresholds |", "|---|---:|---:|"]
    for rule in sorted(compared):
        agree_rows.append(f"| {rule} | {compared[rule]} | {agree[rule]} ({agree[rule] / compared[rule]:.1%}) |")
    body = "\n".join([
        f"Input: `{args.input}` ({len(docs)} target-language documents after extraction and lid.176).",
        f"Non-English documents kept: ours {non_en['ours_kept']}/{non_en['docs']}, "
        f"FineWeb English defaults {non_en['en_kept']}/{non_en['docs']}.", "",
        *rows, "", "Documents by the first rule that drops them:", "", *rule_rows, "",
        "Cross-check: datatrove's own filters with the same per-language thresholds and tokenizer:", "", *agree_rows])
    print(body)
    from benchmarks._results import write_section

    write_section("quality_compare", "Quality rules: per-language vs FineWeb English defaults (dev crawl)", body)


if __name__ == "__main__":
    main()
