"""Recalibrate FineWeb-2 thresholds that remove clean text of a language, with provenance.

    .venv/bin/python -m tools.quality_calibrate          # rewrites the recalibrated cells and their provenance
    .venv/bin/python -m tools.quality_calibrate --check  # exit 1 if the table is not what the data gives

FineWeb-2's thresholds were tuned on FineWeb-2's web data, measured with its tokenizers; some of them remove
professionally written text of a language (Swedish and Basque news at alpha_words_ratio, Maltese measured
without Stanza). For every target language and every ratio threshold of the default rules, this measures the
signal on the language's **fit pages** (FLORES-200 dev, 16-sentence pages, corpus_tools/quality/cleanpages.py;
UD treebanks for a label FLORES lacks, srp_Latn) and relaxes the threshold only where FineWeb-2's value cuts
into the clean distribution's tail: a minimum becomes min(FineWeb-2, P1 - (P50 - P1)), a maximum
max(FineWeb-2, P99 + (P99 - P50)), with P1 / P50 / P99 percentiles (numpy, linear) of the fit pages: a fence as
far beyond the 1st (99th) percentile as the median is inside it, so a language with a wide spread of clean text
gets a wide margin. A threshold is never made stricter, and counts
(min_doc_words, min_stop_words) are never touched. Labels that borrow another label's row (bos_Cyrl, cnr_Cyrl,
cnr_Latn) borrow its recalibration too. The result is written into language_ids/quality_thresholds.tsv (the
cells) and language_ids/quality_recalibrated.tsv (one row per changed cell: FineWeb-2's value, the new value,
the data, the percentile, the fit pages FineWeb-2's value removed). Held-out judgement: benchmarks/fairness.py
(NTREX-128, UDHR, UD and the real crawls are not used here).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

if __package__ in (None, ""):   # run as `python tools/quality_calibrate.py`: this checkout's packages first
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_tools.quality.cleanpages import clean_pages
from corpus_tools.quality.rules import DEFAULT_RULES, RULES
from corpus_tools.quality.signals import compute_signals
from corpus_tools.quality.thresholds import LANGUAGE_IDS, THRESHOLDS_TSV, load_thresholds

PROVENANCE_TSV = LANGUAGE_IDS / "quality_recalibrated.tsv"
FIT_SOURCE = "flores200_dev"
FIT_FALLBACK = "ud_treebanks"   # for labels FLORES-200 dev has no text for (srp_Latn)
PERCENTILE = 1.0
COUNTS = {"min_doc_words", "max_doc_words", "min_stop_words", "c4_min_sentences"}
PROVENANCE_FIELDS = ("label", "threshold_key", "fineweb2", "value", "fit_data", "fit_pages", "rule",
                     "fit_p1_p50_p99", "fineweb2_removed_fit")
HEADER = """# Thresholds recalibrated from clean text (written by `python -m tools.quality_calibrate`; do not edit).
# One row per cell of quality_thresholds.tsv whose FineWeb-2 value cut into the tail of the language's clean pages.
# fineweb2: the seed value (FineWeb-2 config, or the fallback row's); value: the cell now in quality_thresholds.tsv.
# fit_data: the pages measured (16 consecutive sentences each, corpus_tools/quality/cleanpages.py), fit_pages their
# number; rule: the fence (minimum: P1 - (P50 - P1), maximum: P99 + (P99 - P50), rounded outwards to 0.001);
# fit_p1_p50_p99: those percentiles of the fit pages; fineweb2_removed_fit: fit pages the FineWeb-2 value removed.
# Judged on other data (NTREX-128 news, UDHR, UD, the real crawls): benchmarks/fairness.py, benchmarks/RESULTS.md.
"""


def _checks() -> dict[str, tuple[str, str]]:
    """threshold key -> (signal, op) for the ratio checks of the default rules (a key may serve two signals)."""
    out: dict[str, list] = defaultdict(list)
    for rule in DEFAULT_RULES:
        for check in RULES[rule]:
            if check.name not in COUNTS and check.op in ("min", "max"):
                out[check.name].append((check.signal, check.op))
    return out


def read_provenance() -> dict[tuple[str, str], dict]:
    if not PROVENANCE_TSV.exists():
        return {}
    lines = [l for l in PROVENANCE_TSV.read_text(encoding="utf-8").splitlines() if l and not l.startswith("#")]
    rows = [dict(zip(lines[0].split("\t"), l.split("\t"))) for l in lines[1:]]
    return {(r["label"], r["threshold_key"]): r for r in rows}


def seeds() -> dict[str, dict[str, float | None]]:
    """label -> threshold key -> the FineWeb-2 (or fallback) value, before any recalibration."""
    table = load_thresholds()
    out = {label: {key: getattr(row, key) for key in _checks()} for label, row in table.items()}
    for (label, key), r in read_provenance().items():
        if label in out:
            out[label][key] = float(r["fineweb2"])
    return out


def _round(value: float, op: str) -> float:
    return math.floor(value * 1000) / 1000 if op == "min" else math.ceil(value * 1000) / 1000


def recalibrate(pages=None) -> list[dict]:
    """Provenance rows of every cell to change, from the fit pages (default: FLORES-200 dev, UD for srp_Latn)."""
    if pages is None:
        pages = clean_pages((FIT_SOURCE,))
        have = {p.label for p in pages}
        pages += [p for p in clean_pages((FIT_FALLBACK,)) if p.label not in have]
    table, seed, checks = load_thresholds(), seeds(), _checks()
    by_label = defaultdict(list)
    for page in pages:
        by_label[page.label].append(page)
    rows = []
    for label, lang_pages in sorted(by_label.items()):
        signals = [compute_signals(p.text, label, table[label].stop_words) for p in lang_pages]
        data = lang_pages[0].source
        for key, uses in checks.items():
            base = seed[label][key]
            if base is None:
                continue
            value, fit, removed = base, "", 0
            for signal, op in uses:
                measured = np.array([q[signal] for q in signals], dtype=float)
                p1, p50, p99 = (float(x) for x in np.percentile(measured, [PERCENTILE, 50, 100 - PERCENTILE]))
                if op == "min":
                    removed = max(removed, int((measured < base).sum()))
                    fence = _round(p1 - (p50 - p1), op)
                    if fence < value:
                        value, fit = fence, f"{p1:.4f},{p50:.4f},{p99:.4f}"
                else:
                    removed = max(removed, int((measured > base).sum()))
                    fence = _round(p99 + (p99 - p50), op)
                    if fence > value:
                        value, fit = fence, f"{p1:.4f},{p50:.4f},{p99:.4f}"
            if value != base:
                rows.append({"label": label, "threshold_key": key, "fineweb2": f"{base:g}", "value": f"{value:g}",
                             "fit_data": data, "fit_pages": str(len(lang_pages)),
                             "rule": "P1-(P50-P1)" if uses[0][1] == "min" else "P99+(P99-P50)",
                             "fit_p1_p50_p99": fit, "fineweb2_removed_fit": str(removed)})
    # labels that borrow another row borrow its recalibration
    for label, row in sorted(table.items()):
        if row.source.startswith("fallback:fineweb2:"):
            donor = row.source.rsplit(":", 1)[1]
            for r in [r for r in rows if r["label"] == donor]:
                rows.append({**r, "label": label, "fit_data": f"{r['fit_data']} of {donor}"})
    return rows


def _table_with(rows: list[dict]) -> str:
    """quality_thresholds.tsv with the seed values restored and `rows` applied, other lines untouched."""
    seed, old = seeds(), read_provenance()
    new = {(r["label"], r["threshold_key"]): r["value"] for r in rows}
    lines = THRESHOLDS_TSV.read_text(encoding="utf-8").splitlines()
    header = next(l for l in lines if l.startswith("label\t")).split("\t")
    out = []
    for line in lines:
        cells = line.split("\t")
        if line.startswith("#") or cells[0] not in seed:
            out.append(line)
            continue
        for key in _checks():
            cell = (cells[0], key)
            if cell in new or cell in old:
                cells[header.index(key)] = new.get(cell) or f"{seed[cells[0]][key]:g}"
        out.append("\t".join(cells))
    return "\n".join(out) + "\n"


def _provenance_text(rows: list[dict]) -> str:
    return (HEADER + "\t".join(PROVENANCE_FIELDS) + "\n"
            + "".join("\t".join(r[f] for f in PROVENANCE_FIELDS) + "\n" for r in rows))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the files differ from what the data gives")
    args = ap.parse_args(argv)
    rows = recalibrate()
    table, prov = _table_with(rows), _provenance_text(rows)
    if args.check:
        same = table == THRESHOLDS_TSV.read_text(encoding="utf-8") and PROVENANCE_TSV.exists() \
            and prov == PROVENANCE_TSV.read_text(encoding="utf-8")
        print("up to date" if same else "out of date: run python -m tools.quality_calibrate")
        return 0 if same else 1
    THRESHOLDS_TSV.write_text(table, encoding="utf-8")
    PROVENANCE_TSV.write_text(prov, encoding="utf-8")
    for r in rows:
        print(f"{r['label']}\t{r['threshold_key']}\t{r['fineweb2']} -> {r['value']}\t"
              f"(removed {r['fineweb2_removed_fit']}/{r['fit_pages']} {r['fit_data']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
