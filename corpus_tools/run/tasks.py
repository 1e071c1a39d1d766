"""What one task of `corpus run` does, for both executors (`executors.CorpusLocalExecutor`,
`ray_executor.CorpusRayExecutor`): `CorpusTasks` replaces datatrove's `_run_for_rank` and executor.json writer by
subclassing (datatrove itself is never patched). Workers stay quiet: the task log `logs/<phase>/logs/task_<rank>.log`
gets everything, tracebacks included; the console only one-line warnings.
"""

from __future__ import annotations

import errno
import json
import sys
from collections import deque
from collections.abc import Sequence

from datatrove.executor.base import ExecutorJSONEncoder
from datatrove.utils.logging import log_pipeline
from datatrove.utils.stats import PipelineStats
from loguru import logger

from corpus_tools.core.errors import ShardError, describe_error

# the output cannot be written: every retry would fail the same way
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


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
        from corpus_tools.run.progress import reporting

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
