"""Executor choice for `corpus run`: datatrove's local executor (default) or its Ray executor.

Workers stay quiet: task logs go to `OUT/logs/<phase>/logs/` (tracebacks only there), the console only gets
one-line warnings, and the driver prints progress (see `corpus_tools.progress`).

After each phase the driver rebuilds `logs/<phase>/stats.json` from the per-task `stats/<rank>.json` files, in
rank order, so a resumed run's totals (release.json `stage_counts`, the report's per-stage cost) cover every
task, not only the ones the last invocation ran. A task that fails because the output cannot be written (no
space, no permission, a read-only file system) stops the run at once with that error: retrying cannot help.
"""

from __future__ import annotations

import errno
import json
import sys
from collections import deque
from collections.abc import Sequence

from datatrove.executor.base import ExecutorJSONEncoder
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.utils.logging import log_pipeline
from datatrove.utils.stats import PipelineStats
from loguru import logger

from corpus_tools.errors import ShardError, describe_error
from corpus_tools.s3fs_lite import datafolder

def _quiet_task_logger(logging_dir, rank: int):
    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    fmt = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"
    # tracebacks go to the task log only; the console gets the driver's one line per failed task
    logger.add(sys.stderr, level="WARNING", format=fmt, colorize=False, filter=lambda r: r["exception"] is None)
    logger.add(logfile, level="DEBUG", format=fmt, colorize=False)
    logger.info(f"Launching pipeline for {rank=}")
    return logfile


def quiet_driver_logs() -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING", format="{level}: {message}", colorize=False)


def _close_task_logger(logfile) -> None:
    logger.complete()
    quiet_driver_logs()
    logfile.close()


class _DeterministicExecutorJSONEncoder(ExecutorJSONEncoder):
    """executor.json feeds the release's config hash: write sets sorted, not in hash-seed order (which differs
    between processes, so the same command gave different manifests)."""

    def default(self, o):
        if isinstance(o, (set, frozenset)):
            return sorted(o, key=str)
        return super().default(o)


class CorpusTasks:
    """What our executors (local and Ray) do for one task, in place of datatrove's `_run_for_rank`: quiet
    logging, the task's progress file, and one way to fail. A task whose output cannot be written (OUTPUT_ERRNOS)
    raises a plain OSError, which ends the run; any other failure is logged with its traceback in the task log
    and raised as a one-line ShardError: the task stays incomplete, and the driver retries it."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1) -> PipelineStats:
        from corpus_tools.progress import reporting

        if self.is_rank_completed(rank):
            return PipelineStats()
        self._set_distributed_environment(node_rank)
        logfile = _quiet_task_logger(self.logging_dir, rank)
        try:
            with reporting(self, rank):  # the task's count, per document, for the driver's progress line
                log_pipeline(self.pipeline)
                data = None
                for step in self.pipeline:
                    data = step if isinstance(step, Sequence) else step(data, rank, self.world_size)
                if data:
                    deque(data, maxlen=0)
            stats = PipelineStats(self.pipeline)
            if node_rank <= 0:
                with self.logging_dir.open(f"stats/{rank:05d}.json", "w") as fh:
                    stats.save_to_disk(fh)
                self.mark_rank_as_completed(rank)
            logger.success(stats.get_repr(f"Task {rank}"))
            return stats
        except OSError as e:
            logger.exception(e)
            if e.errno not in OUTPUT_ERRNOS:
                raise ShardError(f"task {rank} failed: {describe_error(e)}") from None
            # plain and picklable, so it ends the run; a failed write names no file: the output is where it failed
            raise OSError(e.errno, e.strerror, e.filename or getattr(self, "output", None)) from None
        except Exception as e:  # one task's failure, whatever it is, leaves it incomplete; the run goes on
            logger.exception(e)
            raise ShardError(f"task {rank} failed: {describe_error(e)}") from None
        finally:
            _close_task_logger(logfile)

    def save_executor_as_json(self, indent: int = 4) -> None:
        with self.logging_dir.open("executor.json", "w") as fh:
            json.dump(self, fh, cls=_DeterministicExecutorJSONEncoder, indent=indent)


class CorpusLocalExecutor(CorpusTasks, LocalPipelineExecutor):
    """datatrove's LocalPipelineExecutor with quiet workers; one task = one group of input files."""

    def _launch_run_for_rank(self, rank: int, ranks_q, completed=None, completed_lock=None):
        # A failing task must not take the other tasks down: it is logged and left incomplete for the retry.
        quiet_driver_logs()
        try:
            return super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)
        except ShardError as e:
            logger.error(str(e))
            return PipelineStats()


MAX_ATTEMPTS = 3
# the output cannot be written: every retry would fail the same way
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def phase_tasks(phase, opts) -> int:
    return phase.tasks or max(1, len(opts.files))


def run_phases(phases, opts, progress: bool = True) -> dict[str, list[int]]:
    """Run phases in order (a phase starts when the previous one is complete); return failed task ranks."""
    quiet_driver_logs()
    try:
        return _run_phases(phases, opts, progress)
    finally:
        if opts.executor == "ray":
            from corpus_tools.ray_executor import shutdown_ray

            shutdown_ray()


def _run_phases(phases, opts, progress: bool) -> dict[str, list[int]]:
    from corpus_tools import storage
    from corpus_tools.progress import PhaseProgress

    failed: dict[str, list[int]] = {}
    for phase in _chained(phases):
        tasks = phase_tasks(phase, opts)
        logging_dir = storage.join(opts.output, "logs", phase.name)
        for attempt in range(MAX_ATTEMPTS):
            executor = make_executor(phase, tasks, opts, logging_dir)
            with PhaseProgress(phase.name, logging_dir, tasks, pipeline=phase.pipeline, enabled=progress):
                executor.run()
            incomplete = executor.get_incomplete_ranks()
            merge_task_stats(logging_dir, tasks)
            if not incomplete:
                break
        if incomplete:
            failed[phase.name] = incomplete
            break  # later phases need this one complete
    return failed


def _chained(phases):
    """The phases in order; a phase with `next_phase()` (e.g. the dedup clustering rounds) is followed by what
    that returns, asked only once the phase is complete (a failed phase ends the loop before it is asked)."""
    for phase in phases:
        while phase is not None:
            yield phase
            phase = phase.next_phase() if hasattr(phase, "next_phase") else None


def merge_task_stats(logging_dir: str, tasks: int) -> None:
    """logs/<phase>/stats.json = the sum of every completed task's stats/<rank>.json, in rank order."""
    from corpus_tools import storage

    total = PipelineStats()
    for rank in range(tasks):
        url = storage.join(logging_dir, "stats", f"{rank:05d}.json")
        if storage.exists(url):
            total = total + PipelineStats.from_json(json.loads(storage.read_bytes(url)))
    if total.stats:
        storage.write_bytes(storage.join(logging_dir, "stats.json"), total.to_json().encode())


def make_executor(phase, tasks: int, opts, logging_dir: str):
    if opts.executor == "ray":
        from corpus_tools.ray_executor import make_ray_executor

        return make_ray_executor(phase, tasks, opts, logging_dir)
    workers = max(1, min(opts.workers, tasks))
    executor = CorpusLocalExecutor(pipeline=phase.pipeline, tasks=tasks, workers=workers,
                                   logging_dir=datafolder(logging_dir), start_method="forkserver")
    executor.output = opts.output
    return executor
