"""Executor choice for `corpus run`: datatrove's local executor (default) or its Ray executor.

Workers stay quiet: task logs go to `OUT/logs/<phase>/logs/` (tracebacks only there), the console only gets
one-line warnings, and the driver prints progress (see `corpus_tools.run.progress`).

After each phase the driver rebuilds `logs/<phase>/stats.json` from the per-task `stats/<rank>.json` files, in
rank order, so a resumed run's totals (release.json `stage_counts`, the report's per-stage cost) cover every
task, not only the ones the last invocation ran. A task that fails because the output cannot be written (no
space, no permission, a read-only file system) stops the run at once with that error: retrying cannot help.
"""

from __future__ import annotations

import errno
import json
import sys

import datatrove.executor.base as _datatrove_base
from datatrove.executor.local import LocalPipelineExecutor
from loguru import logger


def _quiet_task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
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


# Applied on import, so it also holds in worker processes, which import this module to unpickle the executor.
_datatrove_base.add_task_logger = _quiet_task_logger
_datatrove_base.close_task_logger = lambda logfile: (logger.complete(), quiet_driver_logs(), logfile.close())

class _DeterministicExecutorJSONEncoder(_datatrove_base.ExecutorJSONEncoder):
    """executor.json feeds the release's config hash: write sets sorted, not in hash-seed order (which differs
    between processes, so the same command gave different manifests)."""

    def default(self, o):
        if isinstance(o, (set, frozenset)):
            return sorted(o, key=str)
        return super().default(o)


_datatrove_base.ExecutorJSONEncoder = _DeterministicExecutorJSONEncoder

# datatrove's logging folder (completion markers, stats) may be on S3: serve s3:// through our boto3 client.
from corpus_tools.core import s3fs_lite  # noqa: E402

s3fs_lite.register()


class CorpusLocalExecutor(LocalPipelineExecutor):
    """datatrove's LocalPipelineExecutor with quiet workers; one task = one group of input files."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        from corpus_tools.run.progress import reporting

        with reporting(self, rank):  # the task's count, per document, for the driver's progress line
            return super()._run_for_rank(rank, local_rank, node_rank)

    def _launch_run_for_rank(self, rank: int, ranks_q, completed=None, completed_lock=None):
        # A failing task must not take the other tasks down: log it, leave it incomplete, let the driver retry.
        quiet_driver_logs()
        try:
            return super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)
        except OSError as e:
            if e.errno in OUTPUT_ERRNOS:
                # plain and picklable, so it ends the run; a failed write names no file: the output is where it failed
                raise OSError(e.errno, e.strerror, e.filename or getattr(self, "output", None)) from None
            logger.error(f"task {rank} failed: {type(e).__name__}: {e}")
        except Exception as e:
            logger.error(f"task {rank} failed: {type(e).__name__}: {e}")
        from datatrove.utils.stats import PipelineStats

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
            from corpus_tools.run.ray_executor import shutdown_ray

            shutdown_ray()


def _run_phases(phases, opts, progress: bool) -> dict[str, list[int]]:
    from corpus_tools.core import storage
    from corpus_tools.run.progress import PhaseProgress

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
    from datatrove.utils.stats import PipelineStats

    from corpus_tools.core import storage

    total = PipelineStats()
    for rank in range(tasks):
        url = storage.join(logging_dir, "stats", f"{rank:05d}.json")
        if storage.exists(url):
            total = total + PipelineStats.from_json(json.loads(storage.read_bytes(url)))
    if total.stats:
        storage.write_bytes(storage.join(logging_dir, "stats.json"), total.to_json().encode())


def make_executor(phase, tasks: int, opts, logging_dir: str):
    if opts.executor == "ray":
        from corpus_tools.run.ray_executor import make_ray_executor

        return make_ray_executor(phase, tasks, opts, logging_dir)
    workers = max(1, min(opts.workers, tasks))
    executor = CorpusLocalExecutor(pipeline=phase.pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir,
                                   start_method="forkserver")
    executor.output = opts.output
    return executor
