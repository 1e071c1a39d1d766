"""Real Ray clusters on this machine for the cluster tests.

- `wheel_venv`: a venv with the wheel built from this tree installed. Every node of both clusters and every
  `corpus` run of these tests (`run_corpus`) use it, never the checkout: that is how nodes get the package
  (docs/SCALING.md), and all runs of a session use the same code while the checkout is being edited.
- `ray_cluster` (shared by the tests): `ray start --head --port=FREE --num-cpus=1` plus a second node
  (`ray start --address=...`).
- `ray_nodes` (test_ray_nodes.py): a head with no CPUs and two worker nodes (1 CPU each, custom resources
  `worker_a` / `worker_b`); a node can be killed (its process group) and another started.

Every node is its own `ray start` process in a new session, with its own --temp-dir and free ports, and the
S3 test server's environment so workers reach it; a node is torn down by killing its process group (never
`ray stop`, which would stop every Ray on the machine). Kept light: no dashboard, a small object store,
usage stats off.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).parent / "ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_env() -> dict:
    env = dict(os.environ)
    # a test-only cluster bound to this machine: no token auth (Ray 2.60 turns it on once ~/.ray/auth_token exists)
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_DEDUP_LOGS="0", RAY_AUTH_MODE="disabled")
    env.pop("RAY_ADDRESS", None)
    return env


class RayNode:
    """One `ray start` (head or worker) run by `python` in a new session, so that its raylet, agents and task
    workers share one process group; `kill()` ends that group. Its own short temp dir (Ray's socket paths
    must stay under 107 bytes)."""

    def __init__(self, python: str, address: str | None, *args: str, env: dict | None = None):
        self.temp_dir = tempfile.mkdtemp(prefix="rn", dir="/tmp")
        if address is None:
            self.port = _free_port()
            self.address = f"127.0.0.1:{self.port}"
            where = ["--head", f"--port={self.port}", "--include-dashboard=false", f"--dashboard-port={_free_port()}",
                     f"--ray-client-server-port={_free_port()}"]
        else:
            self.address = address
            where = [f"--address={address}"]
        cmd = [python, "-m", "ray.scripts.scripts", "start", *where, "--node-ip-address=127.0.0.1",
               f"--temp-dir={self.temp_dir}", "--object-store-memory=80000000", "--disable-usage-stats", *args]
        proc = subprocess.Popen(cmd, env=env or ray_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        self.pgid = proc.pid  # the session leader: every process the node starts stays in its group
        _, err = proc.communicate(timeout=180)
        if proc.returncode != 0:
            self.kill()
            raise RuntimeError(f"ray start failed: {err[-2000:]}")

    def raylet_pid(self) -> int | None:
        return next((pid for pid, cmd in _processes() if "/raylet/raylet " in cmd and self.temp_dir in cmd), None)

    def kill(self) -> None:
        if self.pgid and self.pgid != os.getpgid(0):
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _processes():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                yield int(entry), Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue


@pytest.fixture(scope="session")
def ray_cluster(s3_server, wheel_venv):
    """Address of a running 2-node Ray cluster (1 CPU each), both nodes run by the wheel venv's Python."""
    if not os.path.exists(RAY):
        pytest.fail("ray is not installed: pip install -e '.[ray]'")
    common = ["--num-cpus=1", "--memory=3000000000"]
    python, env = str(wheel_venv / "bin" / "python"), wheel_env(wheel_venv)
    nodes = []
    try:
        nodes.append(RayNode(python, None, *common, env=env))
        nodes.append(RayNode(python, nodes[0].address, *common, env=env))
        yield nodes[0].address
    finally:
        for node in reversed(nodes):
            node.kill()


# The wheel venv once built: `run_corpus` drives the cluster tests' runs with its `corpus`, so that every run
# of a session uses the same code (run-config.json records its digest) even while the checkout is edited.
INSTALLED: dict[str, Path] = {}


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory) -> Path:
    """A venv with corpus-tools installed from the wheel built from this tree (tests/wheel.py)."""
    from tests.wheel import wheel_venv as build

    venv = build(tmp_path_factory.mktemp("wheel"))
    INSTALLED["venv"] = venv
    return venv


def wheel_env(venv: Path) -> dict:
    env = {k: v for k, v in ray_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    return env


class RayNodes:
    """A head without CPUs (tasks never run there) and worker nodes added with `add(name)`: 1 CPU and a custom
    resource `name` each, every node run by the wheel venv's Python. The head's health checks are fast, so a
    killed node is declared dead within seconds."""

    def __init__(self, venv: Path):
        self.python = str(venv / "bin" / "python")
        self.env = wheel_env(venv)
        head_env = dict(self.env, RAY_health_check_initial_delay_ms="1000", RAY_health_check_period_ms="500",
                        RAY_health_check_timeout_ms="500", RAY_health_check_failure_threshold="4")
        self.head = RayNode(self.python, None, "--num-cpus=0", env=head_env)
        self.address = self.head.address
        self.workers: dict[str, RayNode] = {}

    def add(self, name: str) -> RayNode:
        node = RayNode(self.python, self.address, "--num-cpus=1", "--memory=2500000000",
                       f"--resources={json.dumps({name: 1})}", env=self.env)
        self.workers[name] = node
        return node

    def close(self) -> None:
        for node in [*self.workers.values(), self.head]:
            node.kill()


@pytest.fixture(scope="module")
def ray_nodes(s3_server, wheel_venv):
    nodes = RayNodes(wheel_venv)
    try:
        nodes.add("worker_a")
        nodes.add("worker_b")
        yield nodes
    finally:
        nodes.close()


def _corpus_command(args) -> tuple[list[str], dict]:
    venv = INSTALLED.get("venv")
    corpus = str(venv / "bin" / "corpus") if venv else str(Path(sys.executable).parent / "corpus")
    return [corpus, *map(str, args)], (wheel_env(venv) if venv else ray_env())


def run_corpus(*args, timeout: float = 600) -> subprocess.CompletedProcess:
    """The `corpus` CLI in a subprocess (Ray drivers and kill -9 tests need their own process): the wheel
    venv's once it is built (every test that uses a cluster has it), else the project venv's."""
    cmd, env = _corpus_command(args)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def popen_corpus(*args) -> subprocess.Popen:
    cmd, env = _corpus_command(args)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# Fields that differ between two runs by design: wall times, the executor options, release timestamps
# ("created", croissant's "datePublished"), the git commit (the tree may be committed between runs), and
# release.json's "artefacts" (sha256 of croissant.json/summary.json, which carry the timestamps; those files
# are compared themselves, normalised).
_TIMING_KEYS = {"wall_s", "options", "started", "finished", "elapsed_s", "duration_s", "timing", "created",
                "datePublished", "dateCreated", "dateModified", "git_commit", "artefacts"}


def _normalise_json(data: bytes) -> bytes:
    """Drop timing fields and the executor options (which differ by design) before comparing."""

    def strip(obj):
        if isinstance(obj, dict):
            # "*_s" and "s_per_*": seconds and rates (the run report's per-step cost in reports/stats.json)
            return {k: strip(v) for k, v in obj.items()
                    if k not in _TIMING_KEYS and not k.endswith("_s") and not k.startswith("s_per_")}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return json.dumps(strip(json.loads(data)), sort_keys=True).encode()


def output_digest(files: dict[str, bytes], root: str) -> dict[str, str]:
    """{relative path: sha256} over every parquet and json output except logs/ (json without timing fields,
    and with the output root, which differs between the runs compared, replaced by a placeholder)."""
    out = {}
    for rel, data in files.items():
        if rel.startswith("logs/") or not rel.endswith((".parquet", ".json")):
            continue
        if rel.endswith(".json"):
            data = _normalise_json(data.replace(str(root).rstrip("/").encode(), b"<OUT>"))
        out[rel] = hashlib.sha256(data).hexdigest()
    return out


def local_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def s3_files(client, bucket: str, prefix: str) -> dict[str, bytes]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/"):
        for obj in page.get("Contents", []):
            rel = obj["Key"][len(prefix.rstrip("/")) + 1:]
            out[rel] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def ray_pids(pattern: str = "ray::CorpusRankWorker") -> list[int]:
    """PIDs of this machine's processes whose command line starts with `pattern` (Ray sets the title)."""
    return [pid for pid, cmd in _processes() if cmd.startswith(pattern)]


def wait_for(predicate, timeout: float = 120, interval: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


__all__ = ["run_corpus", "popen_corpus", "output_digest", "local_files", "s3_files", "ray_pids", "wait_for",
           "shutil"]
