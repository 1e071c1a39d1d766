"""Executor choice for `corpus run`: datatrove's local executor (default) or its Ray executor.

Workers stay quiet: task logs go to `OUT/logs/<phase>/logs/` (tracebacks only there), the console only gets
one-line warnings (`corpus_tools.run.tasks`), and the driver prints progress (see `corpus_tools.run.progress`).

After each phase the driver rebuilds `logs/<phase>/stats.json` from the per-task `stats/<rank>.json` files, in
rank order, so a resumed run's totals (release.json `stage_counts`, the report's per-stage cost) cover every
task, not only the ones the last invocation ran. A task that fails because the output cannot be written (no
space, no permission, a read-only file system) stops the run at once with that error: retrying cannot help.
"""

from __future__ import annotations

import json
import queue
from copy import deepcopy

from datatrove.executor.local import LocalPipelineExecutor
from datatrove.utils.stats import PipelineStats
from loguru import logger

from corpus_tools.core.errors import ShardError
from corpus_tools.core.s3fs_lite import datafolder
from corpus_tools.run.tasks import CorpusTasks, quiet_driver_logs


class CorpusLocalExecutor(CorpusTasks, LocalPipelineExecutor):
    """datatrove's LocalPipelineExecutor with quiet workers; one task = one group of input files.

    With one worker the tasks run in this process, one after another, as in datatrove, but without its
    manager process: datatrove starts one per phase (a fork of the whole driver, ~50 ms of CPU) only to hand
    out local rank 0. More workers: datatrove's pool, unchanged."""

    def run(self):
        if self.workers != 1 or self.depends:
            return super().run()
        self._launched = True
        ranks = self.get_incomplete_ranks(range(self.local_rank_offset, self.local_rank_offset + self.local_tasks))
        if not ranks:
            return None
        self.save_executor_as_json()
        local_ranks = queue.SimpleQueue()
        local_ranks.put(0)
        template, stats = self.pipeline, PipelineStats()
        for rank in ranks:
            self.pipeline = deepcopy(template)  # each task starts from the unrun steps, as under datatrove
            stats = stats + self._launch_run_for_rank(rank, local_ranks)
        with self.logging_dir.open("stats.json", "wt") as fh:
            stats.save_to_disk(fh)
        logger.success(stats.get_repr(f"All {self.local_tasks} tasks"))
        return stats

    def _launch_run_for_rank(self, rank: int, ranks_q, completed=None, completed_lock=None):
        # A failing task must not take the other tasks down: it is logged and left incomplete for the retry.
        quiet_driver_logs()
        try:
            return super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)
        except ShardError as e:
            logger.error(str(e))
            return PipelineStats()


MAX_ATTEMPTS = 3


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
    executor = CorpusLocalExecutor(pipeline=phase.pipeline, tasks=tasks, workers=workers,
                                   logging_dir=datafolder(logging_dir), start_method="forkserver")
    executor.output = opts.output
    return executor
