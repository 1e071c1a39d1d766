"""The whole eu_web pipeline on a Ray cluster of three nodes, S3 in and out, a worker node killed mid-phase.

The cluster (`ray_nodes`, conftest.py): a head with no CPUs and two worker nodes of 1 CPU each, with custom
resources `worker_a` / `worker_b`; every node and both drivers run corpus-tools from the wheel built from this
tree, installed in a venv of its own (never the checkout). Each phase runs 2 tasks at once, so with one CPU
per node its tasks run on both workers (`logs/<phase>/nodes/<rank>.json` says where each ran).

The Ray run is killed in its docs phase: once a docs task has started on worker_b, that node's process group
(raylet, agents, the task's worker) is killed with SIGKILL, and a new node `worker_c` joins. The same command
must finish by itself, and every shard, ledger file and the release's roots must equal a run of the local
executor over the same S3 input into the same S3 output.

Input (small, for a 2-core machine): ../shared/data/warc/real/dolma (2 files, 82 records),
tests/data/rights/pages.warc.gz (pages of one template: near-duplicates, so the clustering has edges) and the
dev crawl's two news files (../shared/data/warc/dev/articles-*, ~230 pages), so that every docs task lasts
seconds, not the under a second a few dozen records take: the kill must land while the task runs. With
`dedup_partition_edges=4` the duplicate graph is split into several partitions and takes more than one round.
"""

from __future__ import annotations

import json

import pytest

from tests.cluster.conftest import output_digest, popen_corpus, run_corpus, s3_files, wait_for
from tests.conftest import ROOT, TEST_DATA, WARC_DEV, WARC_REAL

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

INPUTS = [*sorted((WARC_REAL / "dolma").glob("*.warc.gz")), TEST_DATA / "rights" / "pages.warc.gz",
          *sorted(WARC_DEV.glob("articles-*.warc.gz"))]
PARAMS = ["--param", "dedup_tasks=2", "--param", "dedup_partition_edges=4"]


def _nodes_of(files: dict[str, bytes]) -> dict[str, dict[int, dict]]:
    """{phase: {rank: node record}} from the run's logs/<phase>/nodes/<rank>.json."""
    out: dict[str, dict[int, dict]] = {}
    for rel, data in files.items():
        parts = rel.split("/")
        if len(parts) == 4 and parts[0] == "logs" and parts[2] == "nodes":
            record = json.loads(data)
            out.setdefault(parts[1], {})[record["rank"]] = record
    return out


def _worker(record: dict) -> str:
    return next(k for k in record["resources"] if k.startswith("worker_"))


def _release_roots(files: dict[str, bytes]) -> dict:
    release = json.loads(files["release.json"])
    return {k: v for k, v in release.items() if k.endswith("root")}


def test_a_three_node_cluster_loses_a_worker_mid_phase_and_writes_what_the_local_executor_writes(
        ray_nodes, wheel_venv, s3_server, s3_bucket):
    client = s3_server.client()
    for path in INPUTS:
        client.upload_file(str(path), s3_bucket, f"crawl/{path.name}")
    src, out = f"s3://{s3_bucket}/crawl/", f"s3://{s3_bucket}/out"
    run = ["run", "eu_web", "--input", src, "--output", out, "--workers", "2", "--no-report", *PARAMS]

    # 1. the reference: the local executor, same wheel, same S3 input and output prefix (the release's config
    # hash covers the output path), kept in memory and deleted
    local = run_corpus(*run)  # the wheel venv's corpus
    assert local.returncode == 0, local.stderr[-3000:]
    reference = s3_files(client, s3_bucket, "out")
    for key in reference:
        client.delete_object(Bucket=s3_bucket, Key=f"out/{key}")

    # 2. the same command on the cluster; worker_b dies while it runs a docs task
    proc = popen_corpus(*run, "--executor", "ray", "--ray-address", ray_nodes.address)
    try:
        def docs_task_on_b():
            records = [json.loads(v) for v in s3_files(client, s3_bucket, "out/logs/docs/nodes").values()]
            return next((r for r in records if _worker(r) == "worker_b"), None)

        victim = wait_for(docs_task_on_b, timeout=300, interval=0.5)
        assert victim, "no docs task started on worker_b"
        assert ray_nodes.workers["worker_b"].raylet_pid()
        ray_nodes.workers["worker_b"].kill()
        ray_nodes.add("worker_c")  # the cluster gets a node back; later phases spread over worker_a and worker_c
        _, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    files = s3_files(client, s3_bucket, "out")

    # 3. byte-identical: every shard and ledger file, the release roots, and every json output (timings aside)
    def parquet(fs):
        return {k: v for k, v in output_digest(fs, out).items() if k.endswith(".parquet")}

    shards = {k for k in parquet(reference) if k.startswith("shards/")}
    ledger = {k for k in parquet(reference) if k.startswith("exclusions/")}
    assert len(shards) >= 2 and {"exclusions/phase=docs", "exclusions/phase=dedup"} <= {k.rsplit("/", 1)[0] for k in ledger}
    assert parquet(files) == parquet(reference)
    assert _release_roots(files) == _release_roots(reference) and _release_roots(files)
    assert output_digest(files, out) == output_digest(reference, out)

    # 4. where the tasks ran: every phase of more than one task on two worker nodes, from the wheel
    nodes = _nodes_of(files)
    rounds = [p for p in nodes if p.startswith("dedup_clusters_r")]
    assert len(rounds) >= 2 and "dedup_clusters_out" in nodes  # several partitions, several rounds
    for phase in ["docs", "dedup_signatures", "dedup_buckets", "dedup_clusters", *rounds, "dedup_clusters_out",
                  "dedup_filter"]:
        ran_on = {_worker(r) for r in nodes[phase].values()}
        if phase == "docs":
            ran_on.add("worker_b")  # the killed attempt: its rank's record now names the node that re-ran it
        assert len(ran_on) >= 2, (phase, ran_on)
    assert _worker(nodes["docs"][victim["rank"]]) != "worker_b"  # the killed attempt did not finish; another did
    for record in (r for by_rank in nodes.values() for r in by_rank.values()):
        assert record["package"].startswith(str(wheel_venv)) and not record["package"].startswith(str(ROOT))
    assert set(nodes["release"]) == {0}
    assert json.loads(files["run.json"])["failed_tasks"] == {}
