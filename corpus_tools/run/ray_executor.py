"""`corpus run ... --executor ray`: the same phases through datatrove's RayPipelineExecutor.

    corpus run eu_web --input DIR --output OUT --executor ray --workers 2          # a local Ray, started for you
    RAY_ADDRESS=HOST:6379 corpus run eu_web --input s3://b/crawl/ --output s3://b/out --executor ray --workers 0

- Cluster: `--ray-address` / `RAY_ADDRESS` connects to an existing cluster; otherwise a local Ray with
  `--workers` CPUs is started (no dashboard, small object store) and shut down when the run ends.
- One datatrove task = one Ray actor (`CorpusRankWorker`) running one rank in-process; `CorpusRayExecutor.run`
  creates and schedules them itself. (datatrove's own RankWorker forks a process pool inside the actor;
  killing the actor then orphans the task and killing the pool child hangs the pool.) A worker that dies (its
  process or node killed) has its rank run again, up to MAX_RESUBMITS times; an exception inside a task
  leaves the rank incomplete (a ShardError, logged in one line) and `executors.run_phases` retries it, then
  records it in `run.json`; an output that cannot be written ends the run, as with the local executor.
- Workers are quiet (`log_to_driver=False`; task logs go to `OUT/logs/<phase>/logs/`), the driver prints
  progress from the files every task keeps up to date (`corpus_tools.run.progress`).
- `--workers N` caps the tasks running at once (0 = as many as the cluster's CPUs allow).
- The output and logging folder must be visible to every node: S3, or a shared filesystem.
- Each task attempt records where it runs in `OUT/logs/<phase>/nodes/<rank>.json` (`record_node`).
- Every node runs the same installed corpus-tools: the wheel installed in the Python environment that
  `ray start` runs from on each node (docs/SCALING.md, "Running on a Ray cluster"). The driver ships no
  package code; only the steps defined in a recipe file are pickled by value.
- CORPUS_RAY_TASK_MEMORY_GB (default 2, from the ~1 GB peak RSS we measured per eu_web task plus headroom)
  is the memory Ray reserves per task; CORPUS_RAY_OBJECT_STORE_MB (default 200) sizes a local Ray's store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections import Counter, deque

from datatrove.executor.ray import RayPipelineExecutor
from loguru import logger

from corpus_tools.core.errors import ConfigError, ShardError
from corpus_tools.core.s3fs_lite import datafolder
from corpus_tools.run.tasks import CorpusTasks

MAX_RESUBMITS = 3  # runs of a rank whose worker died, before the driver's own retry takes over

# Forwarded to the workers of an existing cluster so they reach the same S3 store (credentials are not:
# give the nodes their own, e.g. an instance role or AWS_* variables when running `ray start`).
_FORWARDED_ENV = ("S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION", "CORPUS_S3_PART_MB")


class CorpusRankWorker:
    """Ray actor: runs one rank in this process (no inner process pool)."""

    def run_for_rank(self, executor, rank: int) -> None:
        import ray

        os.environ["RAY_NODELIST"] = ray.util.get_node_ip_address()
        os.environ["RAY_NODEID"] = "0"
        if not executor.is_rank_completed(rank):
            record_node(executor.logging_dir, rank)
        executor._run_for_rank(rank, 0, node_rank=-1)


def record_node(logging_dir, rank: int) -> None:
    """`logs/<phase>/nodes/<rank>.json`: where the task's latest attempt runs (Ray node id, host, pid, the
    node's resources) and the folder corpus_tools was imported from; written when the attempt starts."""
    import socket

    import ray

    import corpus_tools

    node_id = ray.get_runtime_context().get_node_id()
    resources = next((n.get("Resources", {}) for n in ray.nodes() if n.get("NodeID") == node_id), {})
    info = {"rank": rank, "node_id": node_id, "node_ip": ray.util.get_node_ip_address(), "hostname": socket.gethostname(),
            "pid": os.getpid(), "package": os.path.dirname(corpus_tools.__file__),
            "resources": {k: v for k, v in sorted(resources.items()) if not k.startswith("node:")}}
    with logging_dir.open(f"nodes/{rank:05d}.json", "w") as fh:
        fh.write(json.dumps(info, sort_keys=True))


class CorpusRayExecutor(CorpusTasks, RayPipelineExecutor):
    """datatrove's Ray executor with our task body (`CorpusTasks`: logs straight into logging_dir, progress per
    document, one way to fail) and our own scheduling of `CorpusRankWorker` actors, one rank each (one node
    per task, one task per actor: what `make_ray_executor` asks for)."""

    def run(self):
        import ray
        from ray.exceptions import ObjectLostError, RayActorError, RayTaskError, TaskCancelledError, WorkerCrashedError

        ranks = self.get_incomplete_ranks(range(self.world_size))
        if not ranks:
            return
        self.save_executor_as_json()
        executor_ref = ray.put(self)
        worker = ray.remote(CorpusRankWorker).options(
            num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task,
            memory=int(self.mem_per_cpu_gb * self.cpus_per_task * 1024**3), **(self.ray_remote_kwargs or {}))
        pending, running, deaths = deque(ranks), {}, Counter()
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    rank = pending.popleft()
                    actor = worker.remote()
                    running[actor.run_for_rank.remote(executor_ref, rank)] = (actor, rank)
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    actor, rank = running.pop(ref)
                    try:
                        ray.get(ref)
                    except RayTaskError as e:  # raised inside the task
                        cause = e.cause if isinstance(e.cause, BaseException) else e
                        if not isinstance(cause, ShardError):
                            raise cause from None  # an output error, or the store is unreachable: the run ends
                        logger.error(str(cause))
                    except (RayActorError, WorkerCrashedError, ObjectLostError, TaskCancelledError) as e:
                        deaths[rank] += 1
                        if deaths[rank] <= MAX_RESUBMITS:
                            logger.warning(f"task {rank}: its Ray worker died ({type(e).__name__}); running it again")
                            pending.append(rank)
                    finally:
                        ray.kill(actor)
        finally:
            for actor, _ in running.values():
                ray.kill(actor)


def ray_address(opts) -> str | None:
    return opts.ray_address or os.environ.get("RAY_ADDRESS") or None


def ensure_ray(opts) -> None:
    """Connect to the cluster (or start a local Ray) once per run."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = ray_address(opts)
    common = dict(log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
    try:
        with _empty_working_dir() if address else contextlib.nullcontext():
            _init(ray, address, opts, common)
    except ConnectionError as e:
        raise ConfigError(f"cannot connect to the Ray cluster at {address}: start it with `ray start --head` "
                          f"or fix --ray-address/RAY_ADDRESS ({str(e).splitlines()[0]})") from None


@contextlib.contextmanager
def _empty_working_dir():
    """ray.init puts the driver's working directory on every worker's sys.path, ahead of site-packages: run from
    a checkout, the workers of a cluster would import its corpus_tools instead of the installed one. Connect
    from an empty folder instead (removed once connected; a missing sys.path entry is skipped). Not for a local
    Ray: its workers share the driver's folder (relative paths) and its installed package."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="corpus-ray-driver-") as empty:
        os.chdir(empty)
        try:
            yield
        finally:
            os.chdir(here)


def _init(ray, address: str | None, opts, common: dict) -> None:
    if address:
        env = {k: os.environ[k] for k in _FORWARDED_ENV if os.environ.get(k)}
        ray.init(address=address, runtime_env={"env_vars": env} if env else None, **common)
    else:
        store = int(float(os.environ.get("CORPUS_RAY_OBJECT_STORE_MB", "200")) * 1024 * 1024)
        os.environ.pop("RAY_ADDRESS", None)
        # address="local": a new Ray even when a `ray start` cluster runs on this machine (else ray.init joins it)
        ray.init(address="local", num_cpus=max(1, opts.workers or os.cpu_count() or 1), include_dashboard=False,
                 object_store_memory=store, **common)


def shutdown_ray() -> None:
    import ray

    if ray.is_initialized():
        ray.shutdown()


def _pickle_recipe_steps_by_value(pipeline) -> None:
    """Steps defined in a recipe file live in a module workers cannot import: ship their code instead."""
    import sys

    from ray import cloudpickle

    for step in pipeline:
        name = type(step).__module__
        if name.startswith("corpus_recipe_") and name in sys.modules:
            cloudpickle.register_pickle_by_value(sys.modules[name])


def make_ray_executor(phase, tasks: int, opts, logging_dir: str) -> CorpusRayExecutor:
    ensure_ray(opts)
    _pickle_recipe_steps_by_value(phase.pipeline)
    mem_gb = float(os.environ.get("CORPUS_RAY_TASK_MEMORY_GB", "2"))
    workers = opts.workers if opts.workers and opts.workers > 0 else -1
    # datatrove warns that a local logging dir must be shared between nodes: SCALING.md and --help say so.
    logger.disable("datatrove.executor.ray")
    try:
        executor = CorpusRayExecutor(pipeline=phase.pipeline, tasks=tasks, workers=min(workers, tasks) if workers > 0 else -1,
                                     logging_dir=datafolder(logging_dir), cpus_per_task=1, mem_per_cpu_gb=mem_gb)
    finally:
        logger.enable("datatrove.executor.ray")
    executor.output = opts.output  # named by an output error (CorpusTasks)
    return executor
