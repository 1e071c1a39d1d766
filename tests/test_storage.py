"""storage against the real S3 server: listing with globs, streaming reads, range reads, atomic writes."""

from __future__ import annotations

import pytest

from corpus_tools import storage
from corpus_tools.errors import InputError
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
