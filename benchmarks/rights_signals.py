"""Cost of the rights signals: HtmlSignals (selectolax) vs the trafilatura extraction of the same pages.

Reads every HTML response of ../shared/data/warc/dev and ../shared/data/warc/real once, then times, on the
same decoded HTML: `html_signals` (one lexbor parse + licence/opt-out signals) and `trafilatura.bare_extraction`
(the extractor the pipeline runs next). Also times the decision step. Reports ms/page and the ratio.

    .venv/bin/python -m benchmarks.rights_signals
"""

from __future__ import annotations

import glob
import time
from pathlib import Path

import trafilatura

from corpus_tools.core.document import is_excluded
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.rights.decision import decide
from corpus_tools.rights.policy import load_policy
from corpus_tools.stages.signals import html_signals

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "warc"


def main() -> None:
    files = sorted(f for f in glob.glob(str(SHARED / "**" / "*.warc*"), recursive=True) if not f.endswith(".wet.gz"))
    pages = [(d.text, d.metadata.get("_http_headers"), d.metadata["url"], d.metadata["warc_date"])
             for d in WarcRecordReader(files).run() if not is_excluded(d)]
    policy = load_policy()
    agents = {a.lower() for a in policy.agents}
    t0 = time.perf_counter()
    signals = [html_signals(h, hd, u, agents) for h, hd, u, _ in pages]
    t1 = time.perf_counter()
    for s, (_, _, u, date) in zip(signals, pages):
        decide(s, u, date, None, policy)
    t2 = time.perf_counter()
    for h, _, u, _ in pages:
        trafilatura.bare_extraction(h, url=u, with_metadata=True, include_comments=False)
    t3 = time.perf_counter()
    n = len(pages)
    mb = sum(len(h.encode("utf-8", "replace")) for h, *_ in pages) / 1e6
    sig, dec, ext = (t1 - t0) / n * 1000, (t2 - t1) / n * 1000, (t3 - t2) / n * 1000
    md = (f"{n} HTML pages ({mb:.1f} MB of HTML) from `warc/dev` and `warc/real`, one process.\n\n"
          "| step | ms / page | pages / s |\n|---|---|---|\n"
          f"| `html_signals` (HtmlSignals: lexbor parse, licences, TDMRep, noai, Content-Usage) | {sig:.2f} | {1000 / sig:.0f} |\n"
          f"| `decide` (RightsDecision, no robots index) | {dec:.3f} | {1000 / dec:.0f} |\n"
          f"| `trafilatura.bare_extraction` (the next step, for comparison) | {ext:.2f} | {1000 / ext:.0f} |\n\n"
          f"Signals cost {sig / ext:.2f}× the extraction of the same pages.\n")
    print(md)
    from benchmarks._results import write_section

    write_section("rights_signals", "Rights signals cost (HtmlSignals vs trafilatura)", md)


if __name__ == "__main__":
    main()
