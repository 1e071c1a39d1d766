"""End to end over every shared WARC file plus the hostile pages (tests/data/hostile): no failed task,
conservation holds, provenance is complete, determinism, and kill -9 then resume equals an uninterrupted run."""

from __future__ import annotations

import hashlib
import json

import pyarrow.parquet as pq
import pytest

from corpus_tools.core.schema import PROVENANCE_COLUMNS
from tests.conftest import ROOT, TEST_DATA, WARC_DEV, WARC_REAL, run_cli

HOSTILE = TEST_DATA / "hostile"


def _shards(out):
    return sorted((out / "shards").rglob("*.parquet"))


@pytest.fixture(scope="module")
def real_and_dev_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "out"
    result = run_cli("run", "eu_web", "--input", WARC_REAL, "--input", WARC_DEV, "--input", HOSTILE, "--output", out,
                     "--workers", "2")
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_conservation_on_all_shared_warcs(real_and_dev_run):
    """Every real HTML page of ../shared/data (warc/real, warc/dev: the scrapinghub pages are the dev articles)
    plus the hostile pages: no failed task, every record a kept document or a ledger row."""
    summary = json.loads((real_and_dev_run / "run.json").read_text())
    assert summary["failed_tasks"] == {}
    assert summary["conservation_ok"]
    assert summary["records_read"] == summary["documents_kept"] + summary["records_excluded"]
    assert summary["records_read"] > 1300  # 1,169 real + the dev crawl's records
    assert summary["documents_kept"] > 100
    # the counts in run.json are recounted from the files themselves
    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in _shards(real_and_dev_run))
    excluded = sum(pq.ParquetFile(p).metadata.num_rows for p in (real_and_dev_run / "exclusions").rglob("*.parquet"))
    assert (kept, excluded) == (summary["documents_kept"], summary["records_excluded"])


@pytest.mark.slow
def test_every_kept_row_has_provenance(real_and_dev_run):
    for path in _shards(real_and_dev_run):
        table = pq.read_table(path)
        for column in PROVENANCE_COLUMNS:
            values = table.column(column).to_pylist()
            assert all(v is not None and v != "" for v in values), f"{column} empty in {path}"
        assert all(len(t) > 0 for t in table.column("text").to_pylist())


@pytest.mark.slow
def test_hostile_pages_end_as_documents_or_their_rows(real_and_dev_run):
    t = pq.read_table(real_and_dev_run / "exclusions", columns=["url", "stage", "reason"], partitioning=None)
    rows = {u.rsplit("case=", 1)[1]: (s, r) for u, s, r in zip(*(t.column(c).to_pylist() for c in ("url", "stage", "reason")))
            if u and "comwrap" in u and "case=" in u}
    assert rows["deep-divs"] == rows["deep-json-ld"] == ("signals", "too_complex")
    assert rows["short"] == rows["long"] == ("read", "truncated_record")
    kept = []
    for path in _shards(real_and_dev_run):
        kept += [u.rsplit("case=", 1)[1] for u in pq.read_table(path, columns=["url"]).column("url").to_pylist()
                 if "comwrap" in u and "case=" in u]
    cases = json.loads((HOSTILE / "cases.json").read_text())
    assert sorted(kept + list(rows)) == sorted(cases)  # each case exactly once, kept or in the ledger
    assert not any(r == "processing_error" for _, r in rows.values()), rows
    # the same real page under each hostile change: kept (once: the others are its duplicates) or a duplicate
    assert len(kept) == 1 and {r for c, (_, r) in rows.items() if c not in ("deep-divs", "deep-json-ld", "short", "long")} <= {
        "exact_duplicate", "near_duplicate"}


def _digest(out) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in _shards(out) + sorted((out / "exclusions").rglob("*.parquet"))}


@pytest.mark.slow
def test_same_input_gives_byte_identical_shards(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert run_cli("run", "eu_web", "--input", WARC_DEV, "--output", out, "--workers", "2").exit_code == 0
    assert _digest(a) == _digest(b)
    assert len(_digest(a)) > 3


def test_euc_jp_pages_decode_to_japanese(tmp_path):
    out = tmp_path / "out"
    result = run_cli("run", "eu_web", "--input", WARC_REAL / "resiliparse" / "clueweb-quirk.warc.gz",
                     "--output", out, "--param", "keep_other=true", "--param", "dedup=false")
    assert result.exit_code == 0, result.output
    table = pq.read_table(out / "shards" / "language=other", partitioning=None)
    tops = [t[0]["label"] for t in table.column("lang_top").to_pylist()]
    assert len(tops) >= 20 and all(t == "jpn_Jpan" for t in tops)
    text = "".join(table.column("text").to_pylist())
    kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
    assert kana > 1000 and "\ufffd" not in text


def test_rerun_resumes_and_overwrite_starts_over(tmp_path):
    out = tmp_path / "out"
    warc = WARC_REAL / "warcio" / "example.warc.gz"
    assert run_cli("run", "eu_web", "--input", warc, "--output", out).exit_code == 0
    first = json.loads((out / "run.json").read_text())
    marker = out / "marker"
    marker.write_text("kept")
    ledger = out / "exclusions" / "phase=docs" / "part-00000.parquet"
    before = ledger.stat().st_mtime_ns
    again = run_cli("run", "eu_web", "--input", warc, "--output", out)
    assert again.exit_code == 0
    assert json.loads((out / "run.json").read_text())["records_read"] == first["records_read"]
    assert marker.exists() and ledger.stat().st_mtime_ns == before  # completed tasks skipped, nothing rewritten
    assert run_cli("run", "eu_web", "--input", warc, "--output", out, "--overwrite").exit_code == 0
    assert not marker.exists()


KILL_INPUTS = [WARC_DEV / "udhr-european-000.warc.gz", WARC_REAL / "dolma", HOSTILE / "misframed.warc"]


def _corpus(out, *extra):

    args = [str(ROOT / ".venv" / "bin" / "corpus"), "run", "eu_web", "--output", str(out), "--no-report", *extra]
    for path in KILL_INPUTS:
        args += ["--input", str(path)]
    return args


def _release_view(out):
    """release.json without its timestamps, stage_counts on their own, and the shard/ledger digests."""
    from tests.cluster.conftest import local_files, output_digest

    release = json.loads((out / "release.json").read_text())
    return release["stage_counts"], output_digest(local_files(out), str(out))


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["logs/docs/completions/00000", "logs/dedup_signatures/completions/00000"])
def test_kill_9_then_resume_equals_an_uninterrupted_run(tmp_path, kill_after):
    """kill -9 of the whole run (driver and workers) once a marker appears, then the same command: the release
    (shards, ledger, manifests, release.json with its stage_counts) equals an uninterrupted run's."""
    import os
    import shutil
    import signal
    import subprocess
    import time

    out = tmp_path / "out"
    assert subprocess.run(_corpus(out), capture_output=True).returncode == 0
    reference = _release_view(out)
    shutil.rmtree(out)  # the same path again, so paths in the outputs match
    proc = subprocess.Popen(_corpus(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        while not (out / kill_after).exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before the kill point"
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, no clean-up
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert (out / ".lock").exists() and not (out / "release.json").exists()
    resumed = subprocess.run(_corpus(out), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr  # the dead run's lock is stale: taken over
    stage_counts, digest = _release_view(out)
    assert stage_counts == reference[0]
    assert digest == reference[1]
