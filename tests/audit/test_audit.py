"""`corpus audit` round trip on the sample crawl's release (real WARC files): verify, tamper, trace, why,
query (read-only), summary (against independent DuckDB recounts) and takedown."""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import run_cli


def _copy(src, dst):
    for name in ("shards", "exclusions", "manifests"):
        shutil.copytree(src / name, dst / name)
    for name in ("release.json", "croissant.json", "summary.json"):
        shutil.copy(src / name, dst / name)
    return dst


def _tree_digest(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def release(sample_run, tmp_path):
    """A private copy of the sample release that a test may modify."""
    return _copy(sample_run, tmp_path / "release")


def _fails(result, pattern, code=1):
    assert result.exit_code == code, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert re.search(pattern, lines[0]), lines[0]


def test_verify_passes_on_the_release_corpus_run_wrote(sample_run):
    result = run_cli("audit", "verify", sample_run)
    assert result.exit_code == 0, result.output
    r = json.loads((sample_run / "release.json").read_text())
    assert r["merkle_root"] in result.output and r["documents_root"] in result.output


def test_verify_catches_one_flipped_byte(release):
    shard = json.loads((release / "release.json").read_text())["shards"][3]["path"]
    data = bytearray((release / shard).read_bytes())
    data[len(data) // 2] ^= 0x01
    (release / shard).write_bytes(bytes(data))
    _fails(run_cli("audit", "verify", release), rf"shard {re.escape(shard)}: sha256 .* does not match")


def test_verify_catches_missing_and_extra_shards(release):
    shards = json.loads((release / "release.json").read_text())["shards"]
    extra = release / "shards" / "language=deu_Latn" / "redistribution_class=unknown" / "part-09999.parquet"
    extra.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(release / shards[0]["path"], extra)
    _fails(run_cli("audit", "verify", release), r"extra shard shards/language=deu_Latn/redistribution_class=unknown/part-09999.parquet")
    extra.unlink()
    (release / shards[1]["path"]).unlink()
    _fails(run_cli("audit", "verify", release), rf"shard {re.escape(shards[1]['path'])} is missing")


def test_verify_catches_a_consistently_rehashed_shard(release):
    """An attacker who rewrites a shard and fixes its sha256 in release.json still breaks the root."""
    r = json.loads((release / "release.json").read_text())
    s = r["shards"][0]
    t = pq.read_table(release / s["path"])
    pq.write_table(t.slice(0, t.num_rows), release / s["path"], compression="gzip")
    s["sha256"] = hashlib.sha256((release / s["path"]).read_bytes()).hexdigest()
    s["bytes"] = (release / s["path"]).stat().st_size
    (release / "release.json").write_text(json.dumps(r))
    _fails(run_cli("audit", "verify", release), r"manifest .*: sha256 .* != release.json|Merkle root")


def test_verify_catches_a_ledger_change_and_broken_conservation(release):
    r = json.loads((release / "release.json").read_text())
    r["conservation"]["records_read"] += 1
    (release / "release.json").write_text(json.dumps(r))
    _fails(run_cli("audit", "verify", release), r"conservation broken: read \d+ != kept")
    r["conservation"]["records_read"] -= 1
    (release / "release.json").write_text(json.dumps(r))
    ledger = release / r["exclusions"][0]["path"]
    t = pq.read_table(ledger)
    pq.write_table(t.slice(1), ledger)
    _fails(run_cli("audit", "verify", release), rf"ledger file {re.escape(r['exclusions'][0]['path'])}: size|sha256")


def test_trace_random_document_reaches_its_warc_record(sample_run):
    con = duckdb.connect()
    ids = [r[0] for r in con.execute(f"SELECT id FROM read_parquet('{sample_run}/shards/**/*.parquet') ORDER BY id").fetchall()]
    doc_id = random.Random(11).choice(ids)
    result = run_cli("audit", "trace", sample_run, doc_id, "--json")
    assert result.exit_code == 0, result.output
    [t] = json.loads(result.output)
    row = con.execute(f"SELECT url, warc_path, warc_offset, warc_length, payload_digest, filename FROM "
                      f"read_parquet('{sample_run}/shards/**/*.parquet', filename=true) WHERE id = ?", [doc_id]).fetchone()
    assert t["status"] == "kept" and t["provenance"]["url"] == row[0]
    w = t["warc_record"]
    assert w["fetched"] and w["verified"] is True and w["record_type"] == "response"
    assert (w["warc_path"], w["offset"], w["length"], w["payload_digest"]) == row[1:5]
    assert w["digests"]["sha1"]["ok"] is True and w["digests"]["sha1"]["expected"] == row[4]
    assert row[5].endswith(t["location"]["shard"])
    assert [d["step"].split(": ")[-1] for d in t["decisions"]][:2] == ["WarcRecordReader", "HtmlSignals"]
    # the same document by URL, as text
    by_url = run_cli("audit", "trace", sample_run, row[0])
    assert by_url.exit_code == 0 and doc_id in by_url.output and "verified: True" in by_url.output


def test_trace_reports_a_digest_mismatch():
    from corpus_tools.audit.trace import fetch_and_check
    from tests.conftest import SAMPLE_CRAWL

    from warcio.archiveiterator import ArchiveIterator

    warc = SAMPLE_CRAWL / "warcfile.warc.gz"

    with open(warc, "rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            if rec.rec_type == "response":
                rec.content_stream().read()
                row = {"warc_path": str(warc), "warc_offset": it.get_record_offset(), "warc_length": it.get_record_length(),
                       "warc_record_id": rec.rec_headers.get_header("WARC-Record-ID"),
                       "payload_digest": rec.rec_headers.get_header("WARC-Payload-Digest")}
                break
    assert fetch_and_check(row)["verified"] is True
    assert fetch_and_check({**row, "payload_digest": "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})["verified"] is False
    assert fetch_and_check({**row, "warc_record_id": "<urn:uuid:not-this-one>"})["verified"] is False


def test_why_names_the_rule_of_an_excluded_url(sample_run):
    con = duckdb.connect()
    for stage in ("lid", "quality", "dedup"):
        got = con.execute(f"SELECT url, stage, reason, rule, evidence FROM read_parquet('{sample_run}/exclusions/**/*.parquet', "
                          "hive_partitioning=false) WHERE stage = ? AND url IS NOT NULL ORDER BY url LIMIT 1", [stage]).fetchone()
        if got is None:
            continue
        url, stage, reason, rule, evidence = got
        result = run_cli("audit", "why", sample_run, url, "--json")
        assert result.exit_code == 0, result.output
        rows = [r for r in json.loads(result.output) if r["stage"] == stage]
        assert rows and rows[0]["reason"] == reason and rows[0]["rule"] == rule
        assert rows[0]["evidence"] == (json.loads(evidence) if evidence else None)
        text = run_cli("audit", "why", sample_run, url)
        assert f"reason {reason}, rule {rule}" in text.output
    kept = con.execute(f"SELECT url FROM read_parquet('{sample_run}/shards/**/*.parquet') LIMIT 1").fetchone()[0]
    _fails(run_cli("audit", "why", sample_run, kept), r"was kept, not excluded", code=2)
    _fails(run_cli("audit", "why", sample_run, "https://nowhere.invalid/"), r"not in this release", code=2)


def test_query_json_and_csv(sample_run):
    result = run_cli("audit", "query", sample_run, "SELECT lang, count(*) AS n FROM documents GROUP BY 1 ORDER BY 1", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    con = duckdb.connect()
    want = con.execute(f"SELECT lang, count(*) FROM read_parquet('{sample_run}/shards/**/*.parquet', hive_partitioning=false) "
                       "GROUP BY 1 ORDER BY 1").fetchall()
    assert [(r["lang"], r["n"]) for r in got] == want
    csv_out = run_cli("audit", "query", sample_run, "SELECT path, redistribution FROM shards WHERE redistribution <> 'open' ORDER BY 1", "--csv")
    lines = csv_out.output.splitlines()
    assert lines[0] == "path,redistribution" and len(lines) > 1
    table = run_cli("audit", "query", sample_run, "SELECT stage, count(*) FROM exclusions GROUP BY 1")
    assert table.exit_code == 0 and "stage" in table.output and "rows)" in table.output


@pytest.mark.parametrize("sql", [
    "INSERT INTO documents SELECT * FROM documents",
    "CREATE TABLE t AS SELECT 1",
    "COPY (SELECT 1) TO '{root}/shards/leak.csv'",
    "ATTACH '{root}/x.duckdb'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('{root}/../../../etc/hostname')",
    "SET enable_external_access = true",
    "SELECT 1; DROP VIEW documents",
    "INSTALL httpfs",
])
def test_query_refuses_writes_and_files_outside_the_release(release, sql):
    result = run_cli("audit", "query", release, sql.format(root=release))
    _fails(result, r"query is read-only|query refused", code=2)
    assert not (release / "shards" / "leak.csv").exists() and not (release / "x.duckdb").exists()


def test_summary_numbers_equal_independent_recounts(sample_run):
    result = run_cli("audit", "summary", sample_run, "--json")
    assert result.exit_code == 0, result.output
    s = json.loads(result.output)
    con = duckdb.connect()
    docs = f"read_parquet('{sample_run}/shards/**/*.parquet', hive_partitioning=false)"
    excl = f"read_parquet('{sample_run}/exclusions/**/*.parquet', hive_partitioning=false, union_by_name=true)"
    n, words, chars, nbytes = con.execute(f"SELECT count(*), sum(n_words), sum(n_chars), sum(octet_length(encode(text))) FROM {docs}").fetchone()
    assert (s["size"]["documents"], s["size"]["words"], s["size"]["characters"], s["size"]["utf8_bytes"]) == (n, words, chars, nbytes)
    assert s["size"]["size_band"] == "less than 1 billion tokens"
    langs = con.execute(f"SELECT lang, count(*), sum(octet_length(encode(text))) FROM {docs} GROUP BY 1").fetchall()
    assert {x["lang"]: (x["documents"], x["utf8_bytes"]) for x in s["languages"]} == {lang: (d, b) for lang, d, b in langs}
    assert all(abs(x["share"] - x["utf8_bytes"] / nbytes) < 1e-6 for x in s["languages"])
    assert abs(sum(x["share"] for x in s["languages"]) - 1) < 1e-4
    lo, hi = con.execute(f"SELECT min(warc_date::TIMESTAMPTZ), max(warc_date::TIMESTAMPTZ) FROM {docs}").fetchone()
    assert s["collection_period"]["first_capture"][:19] == lo.isoformat()[:19]
    assert s["collection_period"]["latest_capture"][:19] == hi.isoformat()[:19]
    assert s["collection_period"]["end"] == hi.strftime("%m/%Y")
    domains = con.execute(f"SELECT domain, sum(octet_length(encode(text))) b FROM {docs} GROUP BY 1 ORDER BY b DESC, 1").fetchall()
    k = max(1, -(-len(domains) // 10))
    assert [(d["domain"], d["utf8_bytes"]) for d in s["top_domains"]["domains"]] == domains[:k]
    assert s["top_domains"]["domains_total"] == len(domains)
    by_reason = dict(con.execute(f"SELECT stage || '/' || reason, count(*) FROM {excl} GROUP BY 1").fetchall())
    assert s["excluded_by_reason"] == by_reason
    assert s["optout"]["excluded"] == by_reason.get("rights/optout", 0)
    eligible = dict(con.execute(f"SELECT coalesce(train_eligible::VARCHAR, 'unknown'), count(*) FROM {docs} GROUP BY 1").fetchall())
    assert s["optout"]["train_eligible"] == eligible
    pii = con.execute(f"SELECT sum(pii_counts.email), sum(pii_counts.phone), sum(pii_counts.total) FROM {docs}").fetchone()
    assert (s["pii"]["masked"]["email"], s["pii"]["masked"]["phone"], s["pii"]["masked"]["total"]) == pii
    assert {c["software"] for c in s["crawlers"]} >= {"Wget/1.21.4 (darwin23.0.0)", "Heritrix/1.14.4 http://crawler.archive.org"}
    assert not any("@" in json.dumps(c) for c in s["crawlers"])  # no operator e-mail addresses
    md = run_cli("audit", "summary", sample_run).output
    for section in ("## 1.3", "## 2.3", "## 3.1", "## 3.2", "## 3.3", s["top_domains"]["domains"][0]["domain"]):
        assert section in md
    assert json.loads((sample_run / "summary.json").read_text()) == s


@pytest.mark.slow
def test_takedown_writes_a_new_release_and_leaves_the_old_one(release, tmp_path):
    before = _tree_digest(release)
    con = duckdb.connect()
    url, domain = con.execute(f"SELECT url, domain FROM read_parquet('{release}/shards/**/*.parquet') "
                              "WHERE domain <> 'udhr.invalid' ORDER BY id LIMIT 1").fetchone()
    n_domain = con.execute(f"SELECT count(*) FROM read_parquet('{release}/shards/**/*.parquet') WHERE domain = ? OR url = ?",
                           [domain, url]).fetchone()[0]
    new = tmp_path / "v2"
    result = run_cli("audit", "takedown", release, "--url", url, "--domain", domain, "--reason", "ticket-42", "--output", new)
    assert result.exit_code == 0, result.output
    assert _tree_digest(release) == before  # the old release is untouched
    assert run_cli("audit", "verify", release).exit_code == 0
    verify = run_cli("audit", "verify", new)
    assert verify.exit_code == 0, verify.output
    old_r, new_r = json.loads((release / "release.json").read_text()), json.loads((new / "release.json").read_text())
    assert new_r["version"] == "2.0.0" and new_r["previous"]["merkle_root"] == old_r["merkle_root"]
    assert new_r["merkle_root"] != old_r["merkle_root"] and new_r["documents_root"] != old_r["documents_root"]
    assert new_r["conservation"]["documents_kept"] == old_r["conservation"]["documents_kept"] - n_domain
    assert new_r["conservation"]["excluded_by_reason"]["takedown/takedown"] == n_domain
    gone = con.execute(f"SELECT count(*) FROM read_parquet('{new}/shards/**/*.parquet') WHERE domain = ? OR url = ?",
                       [domain, url]).fetchone()[0]
    assert gone == 0
    diff = json.loads((new / "takedown.json").read_text())
    assert len(diff["removed"]) == n_domain and diff["old_release"]["release_id"] == old_r["release_id"]
    why = run_cli("audit", "why", new, url, "--json")
    rows = json.loads(why.output)
    assert rows[0]["reason"] == "takedown" and rows[0]["evidence"]["request"] == "ticket-42"
    _fails(run_cli("audit", "takedown", release, "--url", url, "--output", new), r"not empty", code=2)
    _fails(run_cli("audit", "takedown", release, "--url", "https://nowhere.invalid/", "--output", tmp_path / "v3"),
           r"no kept document matches", code=2)


def test_missing_release_is_a_one_line_error(tmp_path):
    _fails(run_cli("audit", "verify", tmp_path / "nope"), r"release not found", code=2)
    (tmp_path / "shards").mkdir()
    _fails(run_cli("audit", "query", tmp_path, "SELECT 1"), r"has no release.json", code=2)


@pytest.mark.cluster
def test_build_verify_and_query_a_release_on_s3(sample_run, s3_server, s3_bucket):
    """The release step on an s3:// output (shards, ledger and logs uploaded), then the audit over the S3 URI."""
    from corpus_tools.release import build_release

    client = s3_server.client()
    for p in sorted(sample_run.rglob("*")):
        rel = p.relative_to(sample_run).as_posix()
        if p.is_file() and rel.startswith(("shards/", "exclusions/", "logs/")):
            client.put_object(Bucket=s3_bucket, Key=f"out/{rel}", Body=p.read_bytes())
    uri = f"s3://{s3_bucket}/out"
    built = build_release(uri)
    local = json.loads((sample_run / "release.json").read_text())
    for key in ("merkle_root", "documents_root", "conservation", "shards"):
        assert built[key] == local[key], key
    assert run_cli("audit", "verify", uri).exit_code == 0
    result = run_cli("audit", "query", uri, "SELECT count(*) AS n FROM documents", "--json")
    assert json.loads(result.output)[0]["n"] == local["totals"]["documents_kept"]
    client.delete_object(Bucket=s3_bucket, Key="out/summary.json")
    _fails(run_cli("audit", "verify", uri), r"summary.json is missing")
