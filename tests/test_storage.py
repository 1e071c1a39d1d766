"""storage against the real S3 server: listing with globs, streaming reads, range reads, atomic writes."""

from __future__ import annotations

import pytest

from corpus_tools.core import storage
from corpus_tools.core.errors import InputError
from tests.conftest import WARC_REAL


@pytest.mark.cluster
def test_s3_round_trip(s3_server, s3_bucket):
    client = s3_server.client()
    data = (WARC_REAL / "warcio" / "example.warc.gz").read_bytes()
    client.put_object(Bucket=s3_bucket, Key="crawl/a/x.warc.gz", Body=data)
    client.put_object(Bucket=s3_bucket, Key="crawl/b/readme.txt", Body=b"not a warc")
    files = storage.expand_inputs([f"s3://{s3_bucket}/crawl/**/*.warc.gz"])
    assert files == [f"s3://{s3_bucket}/crawl/a/x.warc.gz"]
    assert storage.expand_inputs([f"s3://{s3_bucket}/crawl/"]) == files
    assert storage.read_bytes(files[0]) == data
    assert storage.read_range(files[0], 10, 20) == data[10:30]
    out = f"s3://{s3_bucket}/out/file.bin"
    storage.write_bytes(out, b"payload")
    assert storage.exists(out) and storage.read_bytes(out) == b"payload"
    with pytest.raises(InputError, match="no WARC files matched"):
        storage.expand_inputs([f"s3://{s3_bucket}/nothing/"])


def test_s3_glob_reads_like_local_glob():
    rx = storage.glob_regex("crawl/**/*.warc.gz")
    assert rx.match("crawl/x.warc.gz") and rx.match("crawl/a/b/x.warc.gz")
    assert not rx.match("crawl/a/x.warc.gz.tmp") and not rx.match("other/x.warc.gz")
    assert not storage.glob_regex("crawl/*.warc.gz").match("crawl/a/x.warc.gz")
    assert storage.glob_regex("crawl/[ab]/*.gz").match("crawl/b/x.gz")


def test_local_inputs_file_directory_and_glob(tmp_path):
    import shutil

    (tmp_path / "a" / "b").mkdir(parents=True)
    for name, dest in (("example.warc.gz", "a"), ("post-test.warc.gz", "a/b")):
        shutil.copy(WARC_REAL / "warcio" / name, tmp_path / dest / name)
    (tmp_path / "a" / "notes.txt").write_text("not a warc")
    both = [str(tmp_path / "a" / "b" / "post-test.warc.gz"), str(tmp_path / "a" / "example.warc.gz")]
    assert storage.expand_inputs([str(tmp_path)]) == sorted(both)
    assert storage.expand_inputs([f"{tmp_path}/**/*.warc.gz"]) == sorted(both)
    assert storage.expand_inputs([both[1], both[1]]) == [both[1]]
    with pytest.raises(InputError, match="input not found"):
        storage.expand_inputs([str(tmp_path / "missing")])


@pytest.mark.cluster
def test_s3_stream_resumes_after_a_dropped_connection(s3_server, s3_bucket):
    from botocore.exceptions import ResponseStreamingError

    data = (WARC_REAL / "pywb" / "iana.warc.gz").read_bytes()
    s3_server.client().put_object(Bucket=s3_bucket, Key="iana.warc.gz", Body=data)
    stream = storage.open_read(f"s3://{s3_bucket}/iana.warc.gz")
    head = stream.read(100_000)

    class Dropped:  # the connection breaks once, the way urllib3 reports it to botocore
        def read(self, n=-1):
            raise ResponseStreamingError(error="Connection broken: IncompleteRead")

        def close(self):
            pass

    stream._body = Dropped()
    rest = stream.read()
    assert head + rest == data  # reopened at byte 100,000 with a Range request: nothing lost or repeated
    assert storage.open_read(f"s3://{s3_bucket}/iana.warc.gz", 500_000).read() == data[500_000:]


@pytest.mark.slow
@pytest.mark.cluster
def test_corpus_run_over_s3_glob_matches_local_run(s3_server, s3_bucket, tmp_path):
    import json

    import pyarrow.parquet as pq

    from corpus_tools.readers.record import fetch_record
    from tests.conftest import TEST_DATA, run_cli

    client = s3_server.client()
    files = {"crawl/example.warc.gz": WARC_REAL / "warcio" / "example.warc.gz",
             "crawl/2017/iana/chunked.warc": WARC_REAL / "warcio" / "example-iana.org-chunked.warc",
             "crawl/2017/bad/corrupt-member.warc.gz": TEST_DATA / "warc-broken" / "corrupt-member.warc.gz",
             "crawl/2017/clueweb.warc.gz": WARC_REAL / "resiliparse" / "clueweb-quirk.warc.gz",
             "crawl/2020/cc.warc.gz": WARC_REAL / "resiliparse" / "warcfile.warc.gz"}
    for key, path in files.items():
        client.put_object(Bucket=s3_bucket, Key=key, Body=path.read_bytes())
    client.put_object(Bucket=s3_bucket, Key="crawl/2017/readme.txt", Body=b"not a warc")

    s3_out, local_out = tmp_path / "s3", tmp_path / "local"
    s3_res = run_cli("run", "eu_web", "--input", f"s3://{s3_bucket}/crawl/**/*.warc.gz", "--output", s3_out,
                     "--s3-endpoint", s3_server.endpoint)
    local = [files[k] for k in files if k.endswith(".warc.gz")]
    local_res = run_cli("run", "eu_web", *[a for p in local for a in ("--input", p)], "--output", local_out)
    s3_sum, local_sum = (json.loads((o / "run.json").read_text()) for o in (s3_out, local_out))
    assert s3_sum["conservation_ok"] and s3_sum["records_read"] == local_sum["records_read"] == 6 + 6 + 50 + 30
    assert (s3_sum["documents_kept"], s3_sum["records_excluded"]) == (local_sum["documents_kept"], local_sum["records_excluded"])

    ledger = [r for p in sorted((s3_out / "exclusions").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    damaged = [r for r in ledger if r["reason"] == "corrupt_warc"]
    assert len(damaged) == 1 and damaged[0]["warc_path"] == f"s3://{s3_bucket}/crawl/2017/bad/corrupt-member.warc.gz"
    kept = [r for p in sorted((s3_out / "shards").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert kept and all(r["warc_path"].startswith(f"s3://{s3_bucket}/") for r in kept)
    for row in kept + [r for r in ledger if r["reason"] != "corrupt_warc"]:
        rec = fetch_record(row["warc_path"], row["warc_offset"], row["warc_length"])  # one S3 range read
        assert rec.rec_headers["WARC-Record-ID"] == row["warc_record_id"]
    one = kept[0]
    res = run_cli("warc", "get", one["warc_path"], "--offset", one["warc_offset"], "--length", one["warc_length"],
                  "--max-bytes", "0")
    assert res.exit_code == 0 and "WARC-Record-ID: " + one["warc_record_id"] in res.output
    assert s3_res.exit_code == 0, s3_res.output
    assert local_res.exit_code == 0, local_res.output
