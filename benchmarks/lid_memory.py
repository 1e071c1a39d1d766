"""Memory and CPU of building the combined identifier, step by step, in a fresh process.

    .venv/bin/python benchmarks/lid_memory.py

Each backend is created lazily by `CombinedLid` (on the first text the cascade sends it), and a backend's
model is read on its first call, so the steps are: import, `CombinedLid()`, then per backend its creation and
its first call (four short sentences), then identifying every 40th FLORES-200 dev row (all languages).
Records resident memory (VmRSS) after each step and the process CPU seconds it took, in benchmarks/RESULTS.md
(section lid_memory). The point: which part of the identifier the docs phase's memory is.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402

SAMPLE = ["Dobar dan, kako ste? Ovo je kratka rečenica o vremenu.", "Guten Tag, wie geht es Ihnen heute?",
          "Bonjour, comment allez-vous aujourd'hui ?", "Hyvää päivää, mitä kuuluu?"]


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def main() -> None:
    rows: list[tuple[str, float, float]] = []

    def step(name: str, fn):
        t = time.process_time()
        out = fn()
        rows.append((name, time.process_time() - t, rss_mb()))
        return out

    step("python started", lambda: None)
    combine = step("import corpus_tools.lid.combine", lambda: __import__("corpus_tools.lid.combine",
                                                                         fromlist=["CombinedLid"]))
    lid = step("CombinedLid() (combiner weights, BCMS n-grams)", combine.CombinedLid)
    for name in lid.order:
        backend = step(f"create backend {name}", lambda: lid.backend(name))
        step(f"first call of {name}", lambda: backend.predict_batch(SAMPLE))
    from corpus_tools.lid.evaluate import read_dev

    texts = [t for _, t in read_dev(ROOT.parent / "shared" / "data" / "lid" / "flores200_dev.tsv")][::40]
    step(f"identify_batch of {len(texts)} FLORES-200 dev rows", lambda: lid.identify_batch(texts))
    from corpus_tools.core.languages import registry

    n_lingua = len({lang.lingua for lang in registry().values() if lang.lingua})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table = ["| step | CPU s | RSS after, MB |", "|---|---:|---:|"]
    table += [f"| {n} | {c:.2f} | {r:,.0f} |" for n, c, r in rows]
    lingua = [c for n, c, _ in rows if n == "first call of lingua"]
    lingua_mb = [r for n, _, r in rows if n == "first call of lingua"][0] - \
        [r for n, _, r in rows if n == "create backend lingua"][0]
    body = "\n".join(["`python benchmarks/lid_memory.py`: one fresh process, the steps in order.", "", *table, "",
                      f"Peak RSS {peak:,.0f} MB. lingua's first call loads the n-gram models of every language it is "
                      f"built for ({n_lingua} registry languages; its confidence values need "
                      f"all of them): +{lingua_mb:,.0f} MB and {lingua[0]:.1f} CPU s. It is created only when the "
                      "cascade first reaches it, so a process whose texts all exit after lid176 / py3langid never "
                      "loads it."])
    print(body)
    write_section("lid_memory", "LID memory: building the combined identifier", body)


if __name__ == "__main__":
    main()
