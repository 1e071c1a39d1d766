"""The Ray executor on a real 2-node Ray cluster: parity with the local executor, and kill -9 of a worker.

Input (kept small for this 2-core machine): ../shared/data/warc/real/dolma (2 files, 82 records, English) and
../shared/data/warc/dev/udhr-european-000.warc.gz (55 records, ~40 languages) = 3 tasks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cluster.conftest import local_files, output_digest, popen_corpus, ray_pids, run_corpus, wait_for
from tests.conftest import TEST_DATA, WARC_DEV, WARC_REAL

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

INPUTS = ["--input", WARC_REAL / "dolma", "--input", WARC_DEV / "udhr-european-000.warc.gz"]


@pytest.fixture(scope="module")
def ray_reference(ray_cluster, tmp_path_factory):
    """One uninterrupted Ray run over INPUTS: (output path, its files). Every run in this module writes to the
    same path, because the release's config hash covers the output path; each test clears it when done."""
    out = tmp_path_factory.mktemp("ray") / "out"
    result = run_corpus("run", "eu_web", *INPUTS, "--output", out, "--executor", "ray", "--ray-address", ray_cluster,
                        "--workers", "2")
    assert result.returncode == 0, result.stderr
    files = local_files(out)
    shutil.rmtree(out)
    return out, files


def _ids(files: dict[str, bytes]) -> list[str]:
    ids = []
    for rel, data in sorted(files.items()):
        if rel.endswith(".parquet") and rel.startswith(("shards/", "exclusions/")):
            ids += pq.read_table(pa.BufferReader(data), columns=["id"]).column("id").to_pylist()
    return ids


def test_local_and_ray_executors_write_identical_outputs(ray_reference):
    out, ray_files = ray_reference
    result = run_corpus("run", "eu_web", *INPUTS, "--output", out, "--workers", "2")
    try:
        assert result.returncode == 0, result.stderr
        assert output_digest(local_files(out), out) == output_digest(ray_files, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    digest = output_digest(ray_files, out)
    assert sum(k.startswith("shards/") for k in digest) >= 5  # several languages, so several partitions
    assert {"run.json", "release.json"} <= set(digest)
    # every docs task left a completion marker and a stats file where progress.py reads them (ray_files has them)
    assert sum(k.startswith("logs/docs/completions/") for k in ray_files) == 3
    assert sum(k.startswith("logs/docs/stats/") for k in ray_files) == 3


def test_progress_reads_ray_markers(ray_cluster, tmp_path):
    """The driver's progress line counts the Ray tasks' completion markers and records read."""
    from corpus_tools.run.progress import PhaseProgress

    out = tmp_path / "out"
    result = run_corpus("run", "eu_web", "--input", WARC_REAL / "dolma", "--output", out, "--executor", "ray",
                        "--ray-address", ray_cluster, "--workers", "2", "--param", "dedup=false")
    assert result.returncode == 0, result.stderr
    assert "Processing done" not in result.stderr and "INFO" not in result.stderr  # workers stay quiet
    progress = PhaseProgress("docs", str(out / "logs" / "docs"), 2, enabled=False)
    progress.start = 0
    assert progress.line().startswith("docs: 2/2 tasks · 82 records")


def test_kill_9_a_worker_mid_run_then_rerun_is_identical(ray_cluster, ray_reference):
    out, ray_files = ray_reference
    proc = popen_corpus("run", "eu_web", *INPUTS, "--output", out, "--executor", "ray", "--ray-address", ray_cluster,
                        "--workers", "2")
    victims = []
    try:
        pids = wait_for(ray_pids, timeout=180, interval=0.1)
        assert pids, "no Ray task worker appeared"
        time.sleep(1.0)  # let it get into the WARC
        victims = [p for p in ray_pids() if p in pids] or ray_pids()
        for pid in victims[:1]:
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        assert victims, "the worker finished before it could be killed"
        # datatrove resubmits a crashed worker's rank; if it still failed, the re-run redoes it
        rerun = run_corpus("run", "eu_web", *INPUTS, "--output", out, "--executor", "ray", "--ray-address",
                           ray_cluster, "--workers", "2")
        assert rerun.returncode == 0, rerun.stderr
        files = local_files(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert output_digest(files, out) == output_digest(ray_files, out)
    ids = _ids(files)
    assert len(ids) == len(set(ids)) == len(_ids(ray_files))  # no duplicate rows in shards or ledger


def test_a_failing_task_is_retried_then_recorded_under_ray(ray_cluster, tmp_path):
    out = tmp_path / "out"
    recipe = TEST_DATA / "cluster" / "failing_recipe.py"
    result = run_corpus("run", recipe, "--input", WARC_REAL / "dolma", "--output", out, "--executor", "ray",
                        "--ray-address", ray_cluster, "--workers", "2", "--param", "fail_on=sample-0001")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: 1 task(s) failed")
    summary = json.loads((out / "run.json").read_text())
    assert summary["failed_tasks"] == {"docs": [1]}
    assert (out / "logs" / "docs" / "completions" / "00000").exists()  # the healthy task finished
    assert "injected failure in task 1" in (out / "logs" / "docs" / "logs" / "task_00001.log").read_text()
