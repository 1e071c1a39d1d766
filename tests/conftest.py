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
