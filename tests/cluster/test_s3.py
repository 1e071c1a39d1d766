"""S3 in and out on the real SeaweedFS server: atomic multipart writes, an end-to-end Ray run over a WARC larger
than one multipart chunk, and the S3 server stopped mid-run then restarted (re-run gives identical output).

Input: a "big" WARC made by concatenating ../shared/data/warc/dev/articles-000 and -001 (gzip members concatenate
into a valid WARC; 6.2 MB > the 5 MiB chunk set here) plus udhr-european-000. `--param dedup=false` keeps these
runs to the docs and release phases (the full pipeline's parity is in test_ray.py).
"""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.core import storage
from tests.cluster.conftest import output_digest, popen_corpus, run_corpus, s3_files, wait_for
from tests.conftest import WARC_DEV

PART_MB = 5


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setenv("CORPUS_S3_PART_MB", str(PART_MB))


@pytest.mark.cluster
def test_atomic_write_is_multipart_and_publishes_only_on_success(s3_server, s3_bucket, small_parts):
    client = s3_server.client()
    payload = os.urandom(PART_MB * 1024 * 1024 * 2 + 12345)
    url = f"s3://{s3_bucket}/out/big.bin"
    with storage.atomic_write(url) as fh:
        for i in range(0, len(payload), 1 << 20):
            fh.write(payload[i:i + (1 << 20)])
        assert not storage.exists(url)  # parts uploaded, object not visible yet
    assert storage.read_bytes(url) == payload
    assert client.head_object(Bucket=s3_bucket, Key="out/big.bin")["ETag"].strip('"').endswith("-3")  # 3 parts

    failed = f"s3://{s3_bucket}/out/failed.bin"
    with pytest.raises(RuntimeError):
        with storage.atomic_write(failed) as fh:
            fh.write(payload)  # two parts already sent
            raise RuntimeError("task died")
    assert not storage.exists(failed)
    assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")  # aborted, nothing left


def _upload_inputs(client, bucket: str, tmp_path) -> str:
    from boto3.s3.transfer import TransferConfig

    big = tmp_path / "big.warc.gz"
    big.write_bytes((WARC_DEV / "articles-000.warc.gz").read_bytes() + (WARC_DEV / "articles-001.warc.gz").read_bytes())
    assert big.stat().st_size > PART_MB * 1024 * 1024
    cfg = TransferConfig(multipart_threshold=PART_MB * 1024 * 1024, multipart_chunksize=PART_MB * 1024 * 1024)
    client.upload_file(str(big), bucket, "crawl/big.warc.gz", Config=cfg)
    client.upload_file(str(WARC_DEV / "udhr-european-000.warc.gz"), bucket, "crawl/udhr-european-000.warc.gz")
    return f"s3://{bucket}/crawl/"


def _run_args(src: str, out: str, ray_cluster: str, workers: int) -> list[str]:
    return ["run", "eu_web", "--input", src, "--output", out, "--executor", "ray", "--ray-address", ray_cluster,
            "--workers", str(workers), "--param", "dedup=false"]


@pytest.mark.cluster
@pytest.mark.slow
def test_s3_in_and_out_survives_the_store_going_away(ray_cluster, s3_server, s3_bucket, tmp_path, small_parts):
    client = s3_server.client()
    src = _upload_inputs(client, s3_bucket, tmp_path)

    # 1. uninterrupted S3 -> S3 run through Ray, the reference; kept in memory, then deleted, so that the
    # interrupted run writes to the same prefix (the release's config hash covers the output path)
    out = f"s3://{s3_bucket}/out"
    ref = run_corpus(*_run_args(src, out, ray_cluster, 2))
    assert ref.returncode == 0, ref.stderr
    summary = json.loads(client.get_object(Bucket=s3_bucket, Key="out/run.json")["Body"].read())
    assert summary["conservation_ok"] and summary["failed_tasks"] == {}
    assert summary["records_read"] > 180  # both concatenated members of the big WARC were read, plus udhr
    ref_files = s3_files(client, s3_bucket, "out")
    assert any(k.startswith("shards/") and k.endswith(".parquet") for k in ref_files)
    for key in ref_files:
        client.delete_object(Bucket=s3_bucket, Key=f"out/{key}")

    # 2. the same run again; stop S3 once the first task has completed
    proc = popen_corpus(*_run_args(src, out, ray_cluster, 1))
    try:
        first = wait_for(lambda: client.list_objects_v2(Bucket=s3_bucket, Prefix="out/logs/docs/completions/")
                         .get("KeyCount", 0), timeout=300, interval=0.3)
        assert first, "no task completed"
        s3_server.stop()
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if s3_server.proc is None:
            s3_server.start(timeout=300)  # a restart recovers the master and volumes: slow on a loaded machine
    assert proc.returncode != 0
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and s3_server.endpoint in last, stderr[-2000:]

    # nothing visible is partial: every parquet object that exists parses
    for key, data in s3_files(client, s3_bucket, "out").items():
        if key.endswith(".parquet"):
            assert pq.read_metadata(pa.BufferReader(data)).num_rows >= 0

    # 3. S3 is back: the same command resumes and ends byte-identical to the reference
    again = run_corpus(*_run_args(src, out, ray_cluster, 1))
    assert again.returncode == 0, again.stderr
    assert output_digest(s3_files(client, s3_bucket, "out"), out) == output_digest(ref_files, out)
