"""Driver-side progress: one line per phase (tasks done / total, documents, docs/s, ETA).

It reads the completion markers and per-task stats the executor writes, so it works the same for the
local and the Ray executor. It prints only when stderr is a terminal, so CI logs stay readable.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from corpus_tools import storage


def _docs_done(logging_dir: str) -> int:
    total = 0
    for url in storage.list_files(storage.join(logging_dir, "stats"), ".json"):
        try:
            steps = json.loads(storage.read_bytes(url))
        except (ValueError, OSError):
            continue
        for step in steps:
            for key in ("records_read", "documents_read"):
                stat = step.get("stats", {}).get(key)
                if stat:
                    total += stat["total"] if isinstance(stat, dict) else stat
    return total


class PhaseProgress:
    def __init__(self, phase: str, logging_dir: str, tasks: int, enabled: bool = True, interval: float = 0.5):
        self.phase, self.logging_dir, self.tasks, self.interval = phase, logging_dir, tasks, interval
        self.enabled = enabled and sys.stderr.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def line(self) -> str:
        done = len(storage.list_files(storage.join(self.logging_dir, "completions")))
        docs = _docs_done(self.logging_dir)
        elapsed = max(time.time() - self.start, 1e-6)
        rate = docs / elapsed
        eta = (elapsed / done * (self.tasks - done)) if done else float("nan")
        eta_s = f"{eta:.0f}s" if eta == eta else "?"
        return f"{self.phase}: {done}/{self.tasks} tasks · {docs} docs · {rate:.1f} docs/s · ETA {eta_s}"

    def _safe_line(self) -> str:
        from corpus_tools.errors import CorpusError

        try:  # the store may be unreachable (S3 down): the run reports that, progress must not crash
            return self.line()
        except CorpusError:
            return f"{self.phase}: progress unavailable"

    def _loop(self):
        while not self._stop.wait(self.interval):
            sys.stderr.write("\r" + self._safe_line()[:120].ljust(80))
            sys.stderr.flush()

    def __enter__(self):
        self.start = time.time()
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\r" + self._safe_line()[:120].ljust(80) + "\n")
        return False
