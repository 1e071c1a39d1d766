"""Language ID on real web documents: the combined identifier against its backends' consensus.

    corpus lid eval-web                       # every HTML page of ../shared/data/warc/ and the scrapinghub set
    corpus lid eval-web crawl/ --json

The text of every HTML response (and of every page of the scrapinghub extraction benchmark) is extracted by
the pipeline's own `TrafilaturaExtractor`. A page has a gold label when all three backends name the same
target language for its whole text (the first 4,000 characters each backend reads); the combined
identifier, run as the pipeline runs it (on its sample), must agree on every one of those (issue 27).
Pages where the backends disagree are counted and listed, not scored: there is no gold for them.
Extracted texts are cached under build/lid-cache/ (keyed by the input files' names and sizes).
"""

from __future__ import annotations

import gzip
from collections import Counter
import hashlib
import json
from pathlib import Path

from corpus_tools.core.languages import registry
from corpus_tools.lid.backends import BACKENDS, get_backend
from corpus_tools.lid.evaluate import CACHE_DIR

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
DEFAULT_INPUTS = (SHARED / "warc", SHARED / "extraction" / "scrapinghub" / "html")


def _files(inputs: list[Path]) -> list[Path]:
    out = []
    for p in inputs:
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.is_file() and (".warc" in x.name or x.name.endswith(".html.gz"))))
        elif p.exists():
            out.append(p)
    return out


def _extract(html: str, url: str | None) -> str:
    from datatrove.data import Document

    from corpus_tools.stages.extract import TrafilaturaExtractor

    doc = Document(text=html, id=url or "page", metadata={"url": url})
    TrafilaturaExtractor().process(doc)
    return doc.text or ""


def _warc_pages(path: Path) -> list[tuple[str, str]]:
    from corpus_tools.core.document import is_excluded
    from corpus_tools.readers.warc import WarcRecordReader

    pages = []
    for doc in WarcRecordReader([str(path)]).run():
        if is_excluded(doc) or "html" not in (doc.metadata.get("content_type") or "html"):
            continue
        if doc.text:
            pages.append((doc.metadata.get("url") or doc.id, doc.text))
    return pages


def extracted_pages(inputs: list[Path] | None = None) -> list[dict]:
    """[{source, url, text}] for every HTML page with non-empty extracted text, cached."""
    files = _files([Path(p) for p in (inputs or DEFAULT_INPUTS)])
    key = hashlib.sha256("\n".join(f"{f}:{f.stat().st_size}" for f in files).encode()).hexdigest()[:16]
    cache = CACHE_DIR / f"web-pages-{key}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    out = []
    for f in files:
        if f.name.endswith(".html.gz"):
            html = gzip.decompress(f.read_bytes()).decode("utf-8", errors="replace")
            pages = [(f"scrapinghub:{f.name.split('.')[0]}", html)]
        else:
            pages = _warc_pages(f)
        for url, html in pages:
            text = _extract(html, url if "://" in url else None)
            if text.strip():
                out.append({"source": f.parent.name, "url": url, "text": text})
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def agreement(pages: list[dict]) -> dict:
    """Backends' whole-text labels, the consensus gold, and the combined identifier's label per page."""
    from corpus_tools.lid.combine import CombinedLid

    texts = [p["text"] for p in pages]
    tops = {b: [o[0][0] if o else None for o in get_backend(b).predict_batch(texts, k=1)] for b in BACKENDS}
    results = CombinedLid().identify_batch(texts)
    rows, n_gold, n_agree = [], 0, 0
    for i, p in enumerate(pages):
        labels = {b: tops[b][i] for b in BACKENDS}
        gold = labels[BACKENDS[0]] if len(set(labels.values())) == 1 and labels[BACKENDS[0]] in registry() else None
        r = results[i]
        if gold:
            n_gold += 1
            n_agree += r.label == gold
        rows.append({"source": p["source"], "url": p["url"], "gold": gold, "combined": r.label,
                     "score": r.score, "backends": labels})
    return {"pages": len(pages), "with_gold": n_gold, "agree": n_agree, "rows": rows}


def agreement_markdown(inputs: list[Path] | None = None) -> list[str]:
    res = agreement(extracted_pages(inputs))
    misses = [r for r in res["rows"] if r["gold"] and r["combined"] != r["gold"]]
    pct = 100 * res["agree"] / res["with_gold"] if res["with_gold"] else 0.0
    lines = [f"Every HTML page of `../shared/data/warc/` (dev and real crawls) and the scrapinghub benchmark, text "
             f"extracted by the pipeline's extractor: {res['pages']} pages; all three backends agree on a target "
             f"language for the whole text of {res['with_gold']}; the combined identifier (as the pipeline runs it) "
             f"agrees on **{res['agree']} of {res['with_gold']} ({pct:.1f} %)**.", ""]
    by_lang = Counter(r["gold"] for r in res["rows"] if r["gold"])
    lines.append("Gold pages per language: " + ", ".join(f"{k} {v}" for k, v in by_lang.most_common()))
    if misses:
        lines += ["", "Disagreements with the consensus:", "", "| url | consensus | combined |", "|---|---|---|"]
        lines += [f"| {r['url']} | {r['gold']} | {r['combined']} ({r['score']}) |" for r in misses]
    split = [r for r in res["rows"] if not r["gold"]]
    lines += ["", f"Pages without consensus (not scored): {len(split)}; the combined label on them: " +
              ", ".join(f"{k} {v}" for k, v in Counter(r["combined"] for r in split).most_common())]
    return lines

