"""Driver progress: each task reports its count per document while it runs (local and Ray executor alike),
each phase counts in its own unit, the rate covers this invocation's work only; the line is printed on a
terminal only."""

from __future__ import annotations

import io
import json
import sys
import threading
import time

import pyarrow.parquet as pq
import pytest
from datatrove.pipeline.base import PipelineStep

from corpus_tools.run import progress
from corpus_tools.run.executors import CorpusLocalExecutor
from corpus_tools.run.progress import PhaseProgress
from corpus_tools.readers.warc import WarcRecordReader
from tests.conftest import SAMPLE_CRAWL, WARC_REAL, run_cli

NAS = SAMPLE_CRAWL / "NAS-20100909163324-00000-mette.kb.dk.warc.gz"  # 120 records


class PacedStep(PipelineStep):
    """Takes 10 ms per document, as a heavy extractor does, so a one-file task lasts long enough to watch."""

    name = "PacedStep"

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            time.sleep(0.01)
            yield doc


def _watch(run, logging_dir, pipeline) -> tuple[list[tuple[int, int]], str, tuple[int, int]]:
    """Run `run()` in a thread; poll the driver's counts while it runs; return them, a line, the final counts."""
    task = threading.Thread(target=run)
    seen, lines = [], []
    with PhaseProgress("docs", str(logging_dir), tasks=1, pipeline=pipeline) as watcher:
        task.start()
        while task.is_alive():
            seen.append(watcher.counts())
            lines.append(watcher.line())
            time.sleep(0.03)
        task.join()
        return seen, lines, watcher.counts()


def _moved_before_the_end(seen, total) -> set[int]:
    return {count for done, count in seen if done == 0 and 0 < count < total}


def test_the_count_moves_per_record_while_the_task_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "TASK_INTERVAL_S", 0.05)
    logs = tmp_path / "logs"
    executor = CorpusLocalExecutor(pipeline=[WarcRecordReader([str(NAS)]), PacedStep()], tasks=1, workers=1,
                                   logging_dir=str(logs))
    seen, lines, final = _watch(executor.run, logs, executor.pipeline)
    assert final == (1, 120)
    # one task of one file: before it ended the count had moved through several values
    assert len(_moved_before_the_end(seen, 120)) >= 3, seen
    assert any(" records · " in line and not line.split(" · ")[2].startswith("0.0") for line in lines), lines


def test_a_ray_task_reports_the_same_way(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    from corpus_tools.run.ray_executor import CorpusRayExecutor

    monkeypatch.setattr(progress, "TASK_INTERVAL_S", 0.05)
    logs = tmp_path / "logs"
    executor = CorpusRayExecutor(pipeline=[WarcRecordReader([str(NAS)]), PacedStep()], tasks=1, workers=1,
                                 logging_dir=str(logs))
    # what each Ray actor runs for its rank (CorpusRankWorker.run_for_rank), here in this process
    seen, _, final = _watch(lambda: executor._run_for_rank(0), logs, executor.pipeline)
    assert final == (1, 120)
    assert len(_moved_before_the_end(seen, 120)) >= 3, seen


def test_an_earlier_attempts_file_is_not_counted(tmp_path):
    logs = tmp_path / "logs"
    (logs / "progress").mkdir(parents=True)
    stale = logs / "progress" / "00000.json"
    stale.write_text(json.dumps({"count": 77, "unit": "records", "started": 1.0, "time": 2.0}))
    with PhaseProgress("docs", str(logs), tasks=1, pipeline=[WarcRecordReader([str(NAS)])]) as watcher:
        assert watcher.counts() == (0, 0)  # a killed task's count, until its rank runs again
        stale.write_text(json.dumps({"count": 5, "unit": "records", "started": 3.0, "time": 4.0}))
        assert watcher.counts() == (0, 5)


def _rows(folder) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in folder.rglob("*.parquet"))


def test_each_phase_counts_in_its_own_unit(sample_run):
    def line(phase, tasks=4):
        with PhaseProgress(phase, str(sample_run / "logs" / phase), tasks=tasks) as watcher:
            return watcher.line()

    report = json.loads((sample_run / "run.json").read_text())
    records = report["records_read"]
    # everything was done by an earlier invocation: counted in the total, not in the rate
    assert line("docs") == f"docs: 4/4 tasks · {records:,} records · 0.0 records/s · ETA 0s"
    staged = _rows(sample_run / "staging" / "shards")
    assert line("dedup_signatures").startswith(f"dedup_signatures: 4/4 tasks · {staged:,} docs ·")
    assert line("dedup_filter").startswith(f"dedup_filter: 4/4 tasks · {staged:,} docs ·")
    edges = _rows(sample_run / "dedup" / "edges")
    assert edges > 0 and line("dedup_buckets").startswith(f"dedup_buckets: 4/4 tasks · {edges:,} edges ·")
    assert line("release", tasks=1) == "release: 1/1 tasks · ETA 0s"


def test_progress_is_printed_on_a_terminal_only(monkeypatch, tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with PhaseProgress("docs", str(tmp_path), tasks=2, interval=0.05):
        pass
    assert "docs: 0/2 tasks" in tty.getvalue()
    result = run_cli("run", "eu_web", "--input", WARC_REAL / "warcio" / "example.warc.gz", "--output", tmp_path / "o")
    assert result.exit_code == 0 and "tasks ·" not in result.output
