"""Our executors extend datatrove by subclassing, never by patching it; a failing task is one line on the
console, its traceback in the task log, and it stays incomplete; an unwritable output ends the run."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from datatrove.pipeline.base import PipelineStep

from tests.conftest import ROOT, SAMPLE_CRAWL
from tests.data.cluster.failing_recipe import FailOn  # raises on the records of one input: a bug in one task

SNAPSHOT = r"""
import importlib, json, pkgutil, sys
import fsspec.registry
import datatrove.executor.base, datatrove.executor.local, datatrove.executor.ray, datatrove.io, datatrove.utils.logging

registry = sys.modules["fsspec.registry"]  # (`fsspec.registry` is the mapping it defines)
MODULES = [datatrove.executor.base, datatrove.executor.local, datatrove.executor.ray, datatrove.io,
           datatrove.utils.logging, registry]

def snapshot():
    out = {m.__name__: {k: id(v) for k, v in vars(m).items()} for m in MODULES}
    out["fsspec registry"] = {k: id(v) for k, v in registry.registry.items()}
    out["fsspec known_implementations"] = {k: str(v) for k, v in registry.known_implementations.items()}
    return out

before = snapshot()
import corpus_tools
imported, failed = [], []
for info in pkgutil.walk_packages(corpus_tools.__path__, "corpus_tools."):
    try:
        importlib.import_module(info.name)
        imported.append(info.name)
    except ImportError as e:  # an optional extra that is not installed
        failed.append(f"{info.name}: {e}")
after = snapshot()
changed = sorted(f"{mod}.{k}" for mod in before for k in set(before[mod]) | set(after[mod])
                 if before[mod].get(k) != after[mod].get(k))
print(json.dumps({"imported": imported, "failed": failed, "changed": changed}))
"""


def test_importing_every_module_patches_nothing_in_datatrove_or_fsspec():
    """A fresh interpreter imports datatrove, then every corpus_tools module: datatrove's task logger, its JSON
    encoder, its Ray RankWorker and fsspec's protocol registry are the same objects afterwards."""
    result = subprocess.run([sys.executable, "-c", SNAPSHOT], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"corpus_tools.run.executors", "corpus_tools.run.ray_executor", "corpus_tools.run.tasks", "corpus_tools.core.storage",
            "corpus_tools.core.s3fs_lite", "corpus_tools.cli"} <= set(report["imported"]), report["failed"]
    assert report["changed"] == []


def _warcs(n: int) -> list[str]:
    files = sorted(str(p) for p in SAMPLE_CRAWL.glob("*.warc.gz"))
    assert len(files) >= n
    return files[:n]


def test_a_failing_task_is_one_line_and_stays_incomplete_while_the_others_complete(tmp_path, capfd):
    from corpus_tools.run.executors import CorpusLocalExecutor
    from corpus_tools.readers.warc import WarcRecordReader

    files = _warcs(2)
    logs = tmp_path / "logs"
    executor = CorpusLocalExecutor(pipeline=[WarcRecordReader(files), FailOn(files[1])], tasks=2, workers=1,
                                   logging_dir=str(logs))
    executor.run()
    assert executor.get_incomplete_ranks() == [1]
    err = capfd.readouterr().err
    assert "task 1 failed: RuntimeError: injected failure in task 1" in err
    assert "Traceback" not in err  # tracebacks go to the task log only
    assert "Traceback" in (logs / "logs" / "task_00001.log").read_text()
    assert (logs / "stats" / "00000.json").exists() and not (logs / "stats" / "00001.json").exists()
    config = json.loads((logs / "executor.json").read_text())
    assert config["world_size"] == 2 and [s["needle"] for s in config["pipeline"] if "needle" in s] == [files[1]]


def test_tasks_reuse_the_processs_log_handlers_and_each_log_holds_its_own_task(tmp_path, monkeypatch):
    """loguru's handlers are added once per process (an add costs ~15 ms of CPU), not per task; each task's log
    still gets its own lines, and the driver is left with our handlers only."""
    from loguru import logger

    from corpus_tools.readers.warc import WarcRecordReader
    from corpus_tools.run.executors import CorpusLocalExecutor

    files = _warcs(3)
    logger.add(lambda message: None)  # a stray handler (another library's) is dropped once, at the first task
    adds = []
    real_add = logger.add
    monkeypatch.setattr(logger, "add", lambda *a, **k: adds.append(a) or real_add(*a, **k))
    executor = CorpusLocalExecutor(pipeline=[WarcRecordReader(files)], tasks=3, workers=1, logging_dir=str(tmp_path))
    executor.run()
    assert executor.get_incomplete_ranks() == []
    assert len(adds) <= 2  # the console and the task log, whatever the number of tasks
    for rank in range(3):
        text = (tmp_path / "logs" / f"task_{rank:05d}.log").read_text()
        assert f"Launching pipeline for rank={rank}" in text and f"Task {rank}" in text
        assert not any(f"rank={other}" in text for other in range(3) if other != rank)
        assert text.count("Launching pipeline") == 1
        assert not re.search(r"\n\n\d{4}-\d\d-\d\d ", text)  # one line ending per message


class NoSpace(PipelineStep):
    name = "NoSpace"
    type = "test"

    def run(self, data, rank: int = 0, world_size: int = 1):
        import errno

        for _ in data:
            raise OSError(errno.ENOSPC, "No space left on device")
        yield from ()


def test_an_output_that_cannot_be_written_ends_the_run(tmp_path):
    import errno

    from corpus_tools.run.executors import CorpusLocalExecutor
    from corpus_tools.readers.warc import WarcRecordReader

    executor = CorpusLocalExecutor(pipeline=[WarcRecordReader(_warcs(1)), NoSpace()], tasks=1, workers=1,
                                   logging_dir=str(tmp_path / "logs"))
    executor.output = str(tmp_path / "out")
    with pytest.raises(OSError) as raised:
        executor.run()
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "out")


class ChildProcesses(PipelineStep):
    """Records, in each task, the processes the driver has started (datatrove's manager process among them)."""

    name = "ChildProcesses"
    type = "test"
    seen: list = []

    def run(self, data, rank: int = 0, world_size: int = 1):
        import multiprocess

        ChildProcesses.seen.append((rank, len(multiprocess.active_children())))
        yield from data or ()


def test_one_worker_runs_its_tasks_in_order_in_this_process_and_resumes(tmp_path):
    from corpus_tools.readers.warc import WarcRecordReader
    from corpus_tools.run.executors import CorpusLocalExecutor

    files, logs = _warcs(3), tmp_path / "logs"

    def run():
        ChildProcesses.seen = []
        CorpusLocalExecutor(pipeline=[WarcRecordReader(files), ChildProcesses()], tasks=3, workers=1,
                            logging_dir=str(logs)).run()
        return ChildProcesses.seen

    assert run() == [(0, 0), (1, 0), (2, 0)]  # no manager process beside the tasks
    stats = json.loads((logs / "stats.json").read_text())
    per_task = [json.loads((logs / "stats" / f"{r:05d}.json").read_text()) for r in range(3)]

    def read(steps):
        v = [s["stats"].get("records_read", 0) for s in steps]
        return sum(x["total"] if isinstance(x, dict) else x for x in v)

    assert read(stats) == sum(map(read, per_task)) > 0
    assert run() == []  # every task complete: nothing runs
    (logs / "completions" / "00001").unlink()
    assert run() == [(1, 0)]
