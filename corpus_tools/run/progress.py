"""Progress of a run, counted as the work flows: every task reports its count, the driver prints one line
per phase (tasks done / total, the phase's count, its rate, ETA):

    docs: 2/4 tasks · 1,234 records · 56.7 records/s · ETA 12s
    dedup_buckets: 1/4 tasks · 310 edges · 120.0 edges/s · ETA 3s

Each phase counts in its own unit, the stat its main step already keeps (`COUNTERS`): the docs phase counts
records read (each becomes a kept document or one ledger row; a restage reads its parent's rows), the dedup
phases the documents signed, the candidate edges found, the edges clustered, the documents clustered and
the documents kept or excluded. Inside a task, `TaskProgress` (entered by both executors around every rank)
rewrites `logs/<phase>/progress/<rank>.json` from the steps' live stats every second (every 5 s when the
logs are on S3), so the count moves with every document, not when a task ends; a finished task's count is
read from its `stats/<rank>.json`. Local and Ray tasks write the same files, so the driver reads both alike.
The dedup steps update their stats once per unit of work (a staging shard, a band range, a partition), so
their counts move per unit.

The driver's line (`PhaseProgress`) goes to stderr only when it is a terminal, so CI logs stay readable.
Its rate is measured over the last 10 s of this invocation's work: tasks a resumed run skips count in the
total but not in the rate, and a pause shows as a falling rate, not as a slowly sinking average.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections import deque

from corpus_tools.core import storage

# step name -> (stats summed, unit shown). The first step of a phase found here gives the phase its count;
# another dedup-family step counts its units of work.
COUNTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "WarcRecordReader": (("records_read",), "records"),
    "ReleaseShardReader": (("records_read",), "records"),
    "MinhashSignatures": (("documents",), "docs"),
    "MinhashBuckets": (("edges",), "edges"),
    "ClusterScatter": (("edges",), "edges"),
    "ClusterRound": (("edges_in",), "edges"),
    "ClusterOutput": (("clustered_documents",), "docs"),
    "DuplicateFilter": (("kept", "excluded"), "docs"),
}
_UNITS = (("units",), "units")
TASK_INTERVAL_S = 1.0  # a task rewrites its progress file at most this often (local or shared disk)
TASK_INTERVAL_S3_S = 5.0  # logs on S3: one small PUT per running task every 5 s
RATE_WINDOW_S = 10.0


def _step_name(step) -> str | None:
    """A step's name; a stats file says "TYPE: NAME" (`reader: WarcRecordReader`)."""
    if isinstance(step, dict):
        return str(step.get("name", "")).split(": ", 1)[-1]
    return getattr(step, "name", None)


def phase_counter(steps) -> tuple[str, tuple[str, ...], str] | None:
    """(step name, stats summed, unit) for a phase, from its steps (objects, or the dicts of a stats file)."""
    named = [(_step_name(s), s) for s in steps or ()]
    for name, _ in named:
        if name in COUNTERS:
            return (name, *COUNTERS[name])
    for name, step in named:
        dedup = "units" in step.get("stats", {}) if isinstance(step, dict) else getattr(step, "type", None) == "dedup"
        if dedup:
            return (name, *_UNITS)
    return None


def _live_count(pipeline, counter) -> int:
    name, keys, _ = counter
    total = 0
    for step in pipeline:
        if getattr(step, "name", None) == name:
            stats = step.stats.stats  # read from another thread: .get never inserts into the defaultdict
            total += sum(int(s.total) for s in (stats.get(k) for k in keys) if s is not None)
    return total


def _saved_count(steps: list[dict], counter) -> int:
    name, keys, _ = counter
    total = 0
    for step in steps:
        if _step_name(step) == name:
            for key in keys:
                stat = step.get("stats", {}).get(key)
                if stat:
                    total += stat["total"] if isinstance(stat, dict) else stat
    return int(total)


def _folder_url(folder) -> str:
    """A datatrove DataFolder (or a URL) as a URL storage understands."""
    if isinstance(folder, str):
        return folder
    from fsspec.implementations.local import LocalFileSystem

    return folder.path if isinstance(folder.fs, LocalFileSystem) else folder.fs.unstrip_protocol(folder.path)


class TaskProgress:
    """Inside a task: while the rank runs, keep `logs/<phase>/progress/<rank>.json` =
    `{"count", "unit", "started", "time"}` up to date from the live stats of its steps. Writing never fails
    the task (a store that is down only leaves the count behind)."""

    def __init__(self, logging_dir, rank: int, pipeline, interval: float | None = None):
        self.url = storage.join(_folder_url(logging_dir), "progress", f"{rank:05d}.json")
        self.pipeline, self.counter = pipeline, phase_counter(pipeline)
        self.interval = interval or (TASK_INTERVAL_S3_S if storage.is_s3(self.url) else TASK_INTERVAL_S)
        self.started = time.time()  # tells this attempt's file from one an earlier attempt left
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"progress-{rank}")
        self._written: int | None = None

    def write(self) -> None:
        count = _live_count(self.pipeline, self.counter)
        if count != self._written:
            body = {"count": count, "unit": self.counter[2], "started": self.started, "time": time.time()}
            storage.write_bytes(self.url, json.dumps(body).encode())
            self._written = count

    def _loop(self):
        while True:
            with contextlib.suppress(Exception):
                self.write()
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        if self.counter is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        # the completed task's count is in its stats file; a failed attempt's file is ignored by its successor
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=30)
        return False


def reporting(executor, rank: int):
    """The context both executors run a rank in: its TaskProgress, unless the rank is already complete."""
    if executor.is_rank_completed(rank):
        return contextlib.nullcontext()
    return TaskProgress(executor.logging_dir, rank, executor.pipeline)


class PhaseProgress:
    """The driver's line for one phase. `pipeline` (the phase's steps) names its unit before any task has
    reported; without it the unit is read from the tasks' files."""

    def __init__(self, phase: str, logging_dir: str, tasks: int, pipeline=None, enabled: bool = True,
                 interval: float | None = None):
        self.phase, self.logging_dir, self.tasks = phase, logging_dir, tasks
        self.interval = interval or (2.0 if storage.is_s3(logging_dir) else 0.5)
        self.counter = phase_counter(pipeline)
        self.unit = self.counter[2] if self.counter else None
        self.enabled = enabled and sys.stderr.isatty()
        self._final: dict[int, int] = {}  # completed ranks' counts, read once from stats/<rank>.json
        self._stale: dict[str, float] = {}  # progress files an earlier attempt left: url -> its `started`
        self._samples: deque[tuple[float, int]] = deque()
        self.start = time.time()
        self._base = self._done_at_start = 0   # set again by __enter__ for a resumed phase
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _completed(self) -> set[int]:
        names = (os.path.basename(u) for u in storage.list_files(storage.join(self.logging_dir, "completions")))
        return {int(n) for n in names if n.isdigit()}

    def _saved(self, rank: int) -> int:
        url = storage.join(self.logging_dir, "stats", f"{rank:05d}.json")
        try:
            steps = json.loads(storage.read_bytes(url))
        except (ValueError, OSError):
            return 0
        counter = self.counter or phase_counter(steps)
        if counter is None:
            return 0
        self.counter, self.unit = counter, counter[2]
        return _saved_count(steps, counter)

    def _running(self, done: set[int]) -> dict[str, dict]:
        """The progress files of ranks not complete: url -> its content (unreadable ones left out)."""
        out = {}
        for url in storage.list_files(storage.join(self.logging_dir, "progress"), ".json"):
            name = os.path.basename(url)[: -len(".json")]
            if not name.isdigit() or int(name) in done:
                continue
            try:
                out[url] = json.loads(storage.read_bytes(url))
            except (ValueError, OSError):
                continue
        return out

    def counts(self) -> tuple[int, int]:
        """(tasks done, the phase's count so far): completed tasks from their stats, running ones from their
        progress files (an earlier attempt's file is skipped until its rank reports again)."""
        done = self._completed()
        for rank in sorted(done - self._final.keys()):
            self._final[rank] = self._saved(rank)
        running = 0
        for url, body in self._running(done).items():
            if self._stale.get(url) == body.get("started"):
                continue
            running += int(body.get("count", 0))
            self.unit = self.unit or body.get("unit")
        return len(done), sum(self._final[r] for r in done) + running

    def line(self) -> str:
        done, count = self.counts()
        now = time.time()
        self._samples.append((now, count - self._base))
        while len(self._samples) > 1 and self._samples[1][0] <= now - RATE_WINDOW_S:
            self._samples.popleft()
        t0, c0 = self._samples[0]
        rate = (count - self._base - c0) / (now - t0) if now > t0 else 0.0
        done_now = done - self._done_at_start
        if done >= self.tasks:
            eta = "0s"
        elif done_now > 0:
            eta = f"{(now - self.start) / done_now * (self.tasks - done):.0f}s"
        else:
            eta = "?"
        parts = [f"{self.phase}: {done}/{self.tasks} tasks"]
        if self.unit:
            parts += [f"{count:,} {self.unit}", f"{rate:.1f} {self.unit}/s"]
        return " · ".join(parts + [f"ETA {eta}"])

    def _safe_line(self) -> str:
        from corpus_tools.core.errors import CorpusError

        try:  # the store may be unreachable (S3 down): the run reports that, progress must not crash
            return self.line()
        except CorpusError:
            return f"{self.phase}: progress unavailable"

    def _loop(self):
        while not self._stop.wait(self.interval):
            sys.stderr.write("\r" + self._safe_line()[:120].ljust(80))
            sys.stderr.flush()

    def __enter__(self):
        from corpus_tools.core.errors import CorpusError

        self.start = time.time()
        self._base = self._done_at_start = 0
        try:  # what a resumed run finds done counts in the total, not in the rate
            done = self._completed()
            self._done_at_start = len(done)
            self._final = {r: self._saved(r) for r in sorted(done)}
            self._base = sum(self._final.values())
            self._stale = {u: b.get("started") for u, b in self._running(done).items()}
        except CorpusError:
            pass
        self._samples.append((self.start, 0))
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\r" + self._safe_line()[:120].ljust(80) + "\n")
        return False
