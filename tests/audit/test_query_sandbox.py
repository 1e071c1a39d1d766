"""`corpus audit query` is a sandbox: one SELECT, no file outside the release (not the working directory,
not the system temp dir, not DuckDB's default `.tmp`), spill files in a private directory removed on exit,
a memory limit and a statement timeout. Tables print identifiers whole and cut only free text, with `…`."""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

import pytest

from tests.audit.test_audit import _fails
from tests.conftest import run_cli

SELF_JOIN_6 = "SELECT count(*) FROM documents a, documents b, documents c, documents d, documents e, documents f"


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    """A working directory holding a secret file, also in DuckDB's default temp dir `.tmp` there."""
    d = tmp_path / "cwd"
    (d / ".tmp").mkdir(parents=True)
    for p in (d / "secret.csv", d / ".tmp" / "secret.csv"):
        p.write_text("secret\n42\n")
    monkeypatch.chdir(d)
    return d


def test_query_cannot_read_the_working_directory_or_temp_dirs(sample_run, cwd):
    system_tmp = Path(tempfile.mkdtemp(prefix="corpus-test-secret-"))
    (system_tmp / "secret.csv").write_text("secret\n42\n")
    for path in ("secret.csv", ".tmp/secret.csv", cwd / "secret.csv", cwd / ".tmp" / "secret.csv", system_tmp / "secret.csv"):
        _fails(run_cli("audit", "query", sample_run, f"SELECT * FROM read_csv('{path}')"), r"query refused", code=2)
    _fails(run_cli("audit", "query", sample_run, f"SELECT * FROM glob('{system_tmp}/*')"), r"query refused", code=2)
    assert sorted(p.name for p in cwd.rglob("*")) == [".tmp", "secret.csv", "secret.csv"]  # nothing written here


def test_query_spills_to_a_private_temp_dir_removed_on_exit(sample_run, cwd):
    result = run_cli("audit", "query", sample_run, "SELECT current_setting('temp_directory') AS t", "--json")
    assert result.exit_code == 0, result.output
    spill = Path(json.loads(result.output)[0]["t"])
    assert spill.is_absolute() and spill.name.startswith("corpus-duckdb-")
    assert cwd not in spill.parents and Path(sample_run).resolve() not in spill.parents
    assert not spill.exists()  # removed when the command ended


def test_only_one_select_per_call(sample_run):
    _fails(run_cli("audit", "query", sample_run, "SELECT 1; SELECT 2"), r"query refused: 2 statements given", code=2)
    ok = run_cli("audit", "query", sample_run, "SELECT 1 AS one;", "--json")  # a trailing `;` is still one statement
    assert ok.exit_code == 0 and json.loads(ok.output) == [{"one": 1}]


def test_timeout_stops_a_heavy_self_join(sample_run):
    t0 = time.monotonic()
    _fails(run_cli("audit", "query", sample_run, SELF_JOIN_6, "--timeout", "300ms"), r"query stopped after 0.3 s \(--timeout\)", code=2)
    assert time.monotonic() - t0 < 20  # 66^6 rows: it would run for many minutes without the timeout
    _fails(run_cli("audit", "query", sample_run, "SELECT 1", "--timeout", "soon"), r"--timeout 'soon' is not a duration", code=2)


def test_memory_limit_applies(sample_run):
    sql = "SELECT strlen(string_agg(a.text, '')) AS n FROM documents a, documents b"  # a ~47 MB string
    _fails(run_cli("audit", "query", sample_run, sql, "--memory-limit", "16MB", "--temp-limit", "1MB"),
           r"query needs more memory than --memory-limit 16MB", code=2)
    ok = run_cli("audit", "query", sample_run, sql, "--json")  # the default 2GB is enough
    assert ok.exit_code == 0, ok.output
    n_docs, n_chars = (json.loads(run_cli("audit", "query", sample_run, q, "--json").output)[0]["n"] for q in
                       ("SELECT count(*) AS n FROM documents", "SELECT sum(strlen(text)) AS n FROM documents"))
    assert json.loads(ok.output)[0]["n"] == n_docs * n_chars
    _fails(run_cli("audit", "query", sample_run, "SELECT 1", "--memory-limit", "lots"), r"--memory-limit 'lots' is not a size", code=2)


def test_table_prints_identifiers_whole_and_cuts_free_text_with_an_ellipsis(sample_run):
    sql = ("SELECT id, url, sha256(text) || sha256(text) AS double_sha, text FROM documents "
           "WHERE strlen(text) > 200 ORDER BY id LIMIT 3")
    full = json.loads(run_cli("audit", "query", sample_run, sql, "--json").output)
    table = run_cli("audit", "query", sample_run, sql)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert len(full) == 3 and len(lines) == 2 + 3 + 1
    for row, line in zip(full, lines[2:5]):
        for key in ("id", "url", "double_sha"):  # 128 hex characters, printed whole
            assert re.search(rf"(^|\s){re.escape(row[key])}(\s|$)", line), (key, line)
        cut = line.rstrip().rsplit("  ", 1)[-1]
        assert cut.endswith("…") and len(cut) <= 60 and " ".join(row["text"].split()).startswith(cut[:-1])
    assert "free text cut at …" in lines[-1] and lines[-1].startswith("(3 rows")
