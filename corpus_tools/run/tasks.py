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


TASK_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {name}:{function}:{line} - {message}"
DRIVER_FORMAT = "{level}: {message}"


class _Logs:
    """This process's two loguru handlers, added once, whose targets change: `logger.add` costs ~15 ms of CPU
    (its exception formatter looks up every sysconfig install scheme), and adding them afresh for every task
    cost a 26-task run ~0.4 CPU s. The console handler writes to whatever `sys.stderr` is at the time: one-line
    warnings, in the task format while a task runs (tracebacks only in the task log). The task-log handler
    writes everything, while a task runs, to that task's log file."""

    def __init__(self):
        self.task_log = None
        self.ids: set[int] = set()

    def install(self) -> None:
        """Make ours the only handlers (again, if something else removed or added some)."""
        handlers = getattr(getattr(logger, "_core", None), "handlers", None)  # loguru has no public list
        if handlers is not None and set(handlers) == self.ids:
            return
        logger.remove()
        self.ids = {logger.add(self._console, level="WARNING", format=self._console_format,
                               filter=self._console_filter, colorize=False),
                    logger.add(self._task_log, level="DEBUG", format=TASK_FORMAT,
                               filter=lambda record: self.task_log is not None, colorize=False)}

    def _console(self, message: str) -> None:
        sys.stderr.write(message)
        sys.stderr.flush()

    def _console_format(self, record) -> str:  # a format function ends its lines itself
        return (DRIVER_FORMAT if self.task_log is None else TASK_FORMAT) + "\n{exception}"

    def _console_filter(self, record) -> bool:
        return self.task_log is None or record["exception"] is None

    def _task_log(self, message: str) -> None:
        self.task_log.write(message)
        self.task_log.flush()


_LOGS = _Logs()


def _quiet_task_logger(logging_dir, rank: int):
    _LOGS.install()
    _LOGS.task_log = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    logger.info(f"Launching pipeline for {rank=}")
    return _LOGS.task_log


def quiet_driver_logs() -> None:
    _LOGS.install()


def _close_task_logger(logfile) -> None:
    logger.complete()
    _LOGS.task_log = None
    _LOGS.install()
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
