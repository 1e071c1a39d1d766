"""LID on short pages: what `CascadeLid(lingua_short_texts=False)` (the pipeline's default) changes and saves.

    .venv/bin/python benchmarks/lid_short_pages.py

lingua reads texts of 120 letters or more with its trigram models only, and shorter ones with all its 1- to
5-gram models, which cost +700 MB and 4-8 CPU s to load (benchmarks/RESULTS.md, "LID memory"). In the pipeline a
page under 120 letters ends the cascade after py3langid instead. This benchmark, over the extracted text of
every HTML page in ../shared/data/warc/ and the scrapinghub benchmark (`corpus_tools.cli.lid_web`):
1. counts the pages whose sample (what lingua reads) has under 120 letters, those of them the cascade sends on
   to lingua, and the labels that change, each with its whitespace word count (every language's quality minimum
   is 50 words);
2. runs the `CascadeLid` step over all the pages in a fresh process per setting: CPU seconds and peak RSS.
Records both in benchmarks/RESULTS.md (section lid_short_pages).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import peak_rss_mb, write_section  # noqa: E402
from corpus_tools.cli.lid_web import extracted_pages  # noqa: E402


def label_changes(texts: list[str]) -> dict:
    from corpus_tools.lid.backends import LinguaBackend
    from corpus_tools.lid.combine import CombinedLid, sample_text

    full = CombinedLid().identify_batch(texts)
    cut = CombinedLid(lingua_short_texts=False).identify_batch(texts)
    short = {i for i, t in enumerate(texts) if LinguaBackend.needs_full_models(sample_text(t))}
    reached = [i for i in short if "lingua" in full[i].backends_run]
    changed = [i for i in range(len(texts)) if full[i].label != cut[i].label]
    return {"pages": len(texts), "short": len(short), "reached": len(reached),
            "changed": [{"words": len(texts[i].split()), "letters": sum(c.isalpha() for c in texts[i]),
                         "with": full[i].label, "without": cut[i].label} for i in changed],
            "changed_long": sum(1 for i in changed if i not in short)}


def child(setting: str) -> None:
    """The CascadeLid step over every page, in this fresh process: CPU seconds (models loaded on the way)."""
    from datatrove.data import Document

    from corpus_tools.stages.lid import CascadeLid

    texts = [p["text"] for p in extracted_pages()]
    step = CascadeLid(lingua_short_texts=setting == "with")
    start = time.process_time()
    step.process_batch([Document(text=t, id=str(i), metadata={}) for i, t in enumerate(texts)])
    print(json.dumps({"cpu_s": time.process_time() - start, "peak_rss_mb": peak_rss_mb()}))


def measure(setting: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", setting], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    texts = [p["text"] for p in extracted_pages()]
    changes = label_changes(texts)
    runs = {s: measure(s) for s in ("with", "without")}
    lines = [
        "Pages: the extracted text of every HTML page in ../shared/data/warc/ and the scrapinghub benchmark "
        f"({changes['pages']} with text). `CascadeLid(lingua_short_texts=...)`: with = lingua reads every text the "
        "cascade sends it (the identifier language_ids/EVAL.md measures); without = a text under 120 letters "
        "ends the cascade after py3langid (the pipeline's default).", "",
        f"- pages whose sample (what lingua reads) has under 120 letters: {changes['short']}; of them sent on to lingua by the cascade: "
        f"{changes['reached']}",
        f"- labels that change: {len(changes['changed'])} (on the other pages: "
        f"{changes['changed_long']})", "",
        "| words | letters | label with lingua | label without |", "|---|---|---|---|",
        *[f"| {c['words']} | {c['letters']} | {c['with']} | {c['without']} |" for c in changes["changed"]], "",
        "Every language's quality minimum is 50 words (language_ids/quality_thresholds.tsv, `min_doc_words`).", "",
        "The CascadeLid step over all the pages, one fresh process per setting (models loaded on the way):", "",
        "| setting | CPU s | peak RSS MB |", "|---|---|---|",
        *[f"| {s} | {r['cpu_s']:.2f} | {r['peak_rss_mb']:.0f} |" for s, r in runs.items()],
    ]
    write_section("lid_short_pages", "LID on short pages: lingua's full models only for texts under 120 letters",
                  "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
