"""A real two-node Ray cluster on this machine for the cluster tests, shared by all of them.

`ray start --head --port=FREE --num-cpus=1` plus a second node (`ray start --address=...`), both started with
the S3 test server's environment so workers reach it; torn down with `ray stop --force` at the end. Kept light:
no dashboard, a small object store, usage stats off.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
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


def _ray(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([RAY, *args], env=ray_env(), capture_output=True, text=True, timeout=180, check=check)


@pytest.fixture(scope="session")
def ray_cluster(s3_server, tmp_path_factory):
    """Address of a running 2-node Ray cluster (1 CPU each)."""
    if not os.path.exists(RAY):
        pytest.fail("ray is not installed: pip install -e '.[ray]'")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--memory=3000000000", "--disable-usage-stats"]
    try:
        _ray("start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--include-dashboard=false",
             *common)
        _ray("start", f"--address={address}", "--node-ip-address=127.0.0.1", *common)
        yield address
    finally:
        _ray("stop", "--force", check=False)


def run_corpus(*args, timeout: float = 600) -> subprocess.CompletedProcess:
    """The `corpus` CLI in a subprocess (Ray drivers and kill -9 tests need their own process)."""
    corpus = str(Path(sys.executable).parent / "corpus")
    return subprocess.run([corpus, *map(str, args)], cwd=ROOT, env=ray_env(), capture_output=True, text=True,
                          timeout=timeout)


def popen_corpus(*args) -> subprocess.Popen:
    corpus = str(Path(sys.executable).parent / "corpus")
    return subprocess.Popen([corpus, *map(str, args)], cwd=ROOT, env=ray_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


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
            return {k: strip(v) for k, v in obj.items() if k not in _TIMING_KEYS and not k.endswith("_s")}
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
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith(pattern):
            pids.append(int(entry))
    return pids


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
