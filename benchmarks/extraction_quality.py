"""Extraction quality on the scrapinghub article-extraction benchmark (181 pages, MIT).

    .venv/bin/python benchmarks/extraction_quality.py

Scores trafilatura's default settings, the FineWeb recipe's extractor (datatrove's `Trafilatura`, precision
mode, as benchmarks/e2e.py runs it) and our TrafilaturaExtractor configuration with the benchmark's own
scoring (../shared/data/README.md): \\w+ tokens, multisets of word 4-gram shingles, per-document TP/FP/FN
normalised by their sum, precision and recall averaged over documents, F1 from those means. Cost is CPU ms
per page of this process (the machine is shared; wall time would count other load).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH = ROOT.parent / "shared" / "data" / "extraction" / "scrapinghub"
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter:
    toks = _WORD.findall(text or "")
    return Counter(tuple(toks[i:i + n]) for i in range(max(0, len(toks) - n + 1)))


def score(pairs: list[tuple[str, str]]) -> dict:
    ps, rs = [], []
    for truth, pred in pairs:
        t, p = shingles(truth), shingles(pred)
        tp = sum((t & p).values())
        fp = sum((p - t).values())
        fn = sum((t - p).values())
        total = tp + fp + fn
        if total == 0:
            ps.append(1.0), rs.append(1.0)
            continue
        tp, fp, fn = tp / total, fp / total, fn / total
        ps.append(tp / (tp + fp) if tp + fp else 0.0)
        rs.append(tp / (tp + fn) if tp + fn else 0.0)
    p, r = sum(ps) / len(ps), sum(rs) / len(rs)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "documents": len(pairs)}


def load_pages() -> list[tuple[str, str, str]]:
    truth = json.loads((BENCH / "ground-truth.json").read_text())
    pages = []
    for doc_id, item in sorted(truth.items()):
        path = BENCH / "html" / f"{doc_id}.html.gz"
        if path.exists():
            pages.append((item.get("url"), gzip.open(path).read().decode("utf-8", "replace"), item["articleBody"]))
    return pages


def evaluate(extract, pages) -> dict:
    start = time.process_time()
    preds = [(truth, extract(html, url)) for url, html, truth in pages]
    elapsed = time.process_time() - start
    return {**score(preds), "ms_per_page": 1000 * elapsed / len(pages)}


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


def fineweb_recipe(html: str, url: str) -> str:
    from datatrove.pipeline.extractors import Trafilatura

    step = fineweb_recipe.step = getattr(fineweb_recipe, "step", None) or Trafilatura(favour_precision=True, timeout=10)
    return step.extract(html) or ""


def ours(html: str, url: str) -> str:
    from datatrove.data import Document

    from corpus_tools.stages.extract import TrafilaturaExtractor

    step = ours.step = getattr(ours, "step", None) or TrafilaturaExtractor()
    doc = Document(text=html, id="x", metadata={"url": url})
    step.process(doc)
    return doc.text


def main() -> dict:
    pages = load_pages()
    results = {"trafilatura default": evaluate(trafilatura_default, pages),
               "FineWeb recipe (datatrove Trafilatura, favour_precision)": evaluate(fineweb_recipe, pages),
               "corpus-tools extractor": evaluate(ours, pages)}
    for name, r in results.items():
        print(f"{name:56s} F1 {r['f1']:.4f}  P {r['precision']:.4f}  R {r['recall']:.4f}  {r['ms_per_page']:.1f} CPU ms/page")
    return results


if __name__ == "__main__":
    results = main()
    from benchmarks._results import write_section

    rows = "\n".join(f"| {k} | {v['f1']:.4f} | {v['precision']:.4f} | {v['recall']:.4f} | {v['ms_per_page']:.1f} |" for k, v in results.items())
    write_section("extraction_quality", "Extraction quality (scrapinghub, 181 pages)",
                  "| extractor | F1 | precision | recall | CPU ms/page |\n|---|---|---|---|---|\n" + rows)
