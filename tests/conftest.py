"""Shared fixtures: paths to the real data, and a helper that runs the `corpus` CLI in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
WARC_REAL = SHARED / "warc" / "real"
WARC_DEV = SHARED / "warc" / "dev"
SAMPLE_CRAWL = ROOT / "tests" / "data" / "sample-crawl"
TEST_DATA = ROOT / "tests" / "data"


def run_cli(*args: str):
    from corpus_tools.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """One default-pipeline run over the sample crawl, shared by the tests that only read its output."""
    out = tmp_path_factory.mktemp("sample") / "out"
    result = run_cli("run", "eu_web", "--input", SAMPLE_CRAWL, "--output", out, "--workers", "2")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real SeaweedFS S3 server for the whole session; the environment points corpus-tools at it."""
    from corpus_tools.core import s3fs_lite
    from tests.s3server import SeaweedServer

    server = SeaweedServer(tmp_path_factory.mktemp("seaweed")).start()
    old = {k: os.environ.get(k) for k in ("S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(S3_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                      AWS_DEFAULT_REGION="us-east-1")
    s3fs_lite.reset_s3_client()
    yield server
    server.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    s3fs_lite.reset_s3_client()


@pytest.fixture
def s3_bucket(s3_server, request):
    """A fresh bucket per test, named after it."""
    import re

    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-") + f"-{os.getpid() % 1000}"
    s3_server.client().create_bucket(Bucket=name)
    return name
