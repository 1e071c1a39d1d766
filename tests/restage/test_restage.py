"""`corpus stage`: re-run quality, rights and dedup over real releases made from the sample crawl.

Parents (module fixtures, real `corpus run eu_web` runs): `first` over tests/data/sample-crawl/sample-0000.warc.gz;
`rights` over tests/data/rights/pages.warc.gz with its robots.txt captures (dedup off: its pages share a
template); `second`, a new crawl that re-fetches three pages of `first` under new record ids and URLs, plus
tests/data/sample-crawl/warcfile.warc.gz.
"""

from __future__ import annotations

import io
import json
import uuid

import pyarrow.parquet as pq
import pytest

from corpus_tools.core import storage
from corpus_tools.quality.thresholds import load_thresholds
from tests.conftest import ROOT, SAMPLE_CRAWL, TEST_DATA, run_cli

pytestmark = pytest.mark.slow  # each parent is a real pipeline run (~30-60 s on a shared 2-core machine)


def _run(*args):
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return result.output


def _rows(out, sub, columns=None):
    root = out / sub
    return [r for p in sorted(root.rglob("*.parquet")) for r in pq.read_table(p, columns=columns).to_pylist()] if root.is_dir() else []


def _release(out):
    return json.loads((out / "release.json").read_text())


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("first") / "out"
    _run("run", "eu_web", "--input", SAMPLE_CRAWL / "sample-0000.warc.gz", "--output", out)
    return out


def test_same_parameters_give_a_byte_identical_release(first, tmp_path):
    out = tmp_path / "same"
    text = _run("stage", "quality", "--input", first, "--output", out)
    assert "changed: nothing" in text
    old, new = _release(first), _release(out)
    assert (new["merkle_root"], new["documents_root"], new["release_id"]) == (old["merkle_root"], old["documents_root"], old["release_id"])
    assert sorted(p.relative_to(out) for p in (out / "shards").rglob("*.parquet")) == \
        sorted(p.relative_to(first) for p in (first / "shards").rglob("*.parquet"))
    for p in (first / "shards").rglob("*.parquet"):
        assert (out / p.relative_to(first)).read_bytes() == p.read_bytes()
    assert new["lineage"]["parent"]["merkle_root"] == old["merkle_root"] and new["lineage"]["params"] == {}
    _run("audit", "verify", out)


def test_stricter_threshold_moves_exactly_the_documents_that_cross_it(first, tmp_path):
    kept = _rows(first, "shards")
    table = load_thresholds()
    # a threshold that sits inside the stored values, so the test moves some documents and keeps others
    words = sorted(r["quality"]["n_non_symbol_words"] for r in kept if r["lang"] in table)
    threshold = words[len(words) // 3] + 1
    expected = {r["id"] for r in kept if r["lang"] in table and table[r["lang"]].min_doc_words is not None
                and r["quality"]["n_non_symbol_words"] < threshold}
    assert 0 < len(expected) < len(kept)

    dry = _run("stage", "quality", "--input", first, "--output", tmp_path / "unused", "--param",
               f"min_doc_words={threshold}", "--dry-run")
    assert f"newly dropped {len(expected)}," in dry and not (tmp_path / "unused").exists()

    out = tmp_path / "strict"
    _run("stage", "quality", "--input", first, "--output", out, "--param", f"min_doc_words={threshold}")
    new_rows = [r for r in _rows(out, "exclusions") if r["run_id"] != kept[0]["run_id"]]
    assert {r["id"] for r in new_rows} == expected
    assert {(r["stage"], r["rule"]) for r in new_rows} == {("quality", "gopher_quality_v1")}
    assert all(json.loads(r["evidence"])["threshold"] == threshold for r in new_rows)
    assert {r["id"] for r in _rows(out, "shards")} == {r["id"] for r in kept} - expected
    # the parent's ledger is carried over untouched
    assert {r["id"] for r in _rows(first, "exclusions")} <= {r["id"] for r in _rows(out, "exclusions")}
    release = _release(out)
    assert release["lineage"]["params"] == {"quality": {"min_doc_words": {"old": 50.0, "new": float(threshold)}}}
    assert release["previous"]["merkle_root"] == _release(first)["merkle_root"]
    _run("audit", "verify", out)
    # the auditor follows a moved document into the parent, where it was kept
    doc = sorted(expected)[0]
    trace = json.loads(_run("audit", "trace", out, doc, "--json", "--no-fetch"))
    assert trace[0]["status"] == "excluded" and trace[0]["lineage"]["in_parent"][0]["status"] == "kept"

    # restage the restage back to the table's value: the moved documents are re-hydrated from their WARC records
    # (extraction, LID, rights, signals, PII masking) and the kept set is the original one, text for text
    back = tmp_path / "back"
    _run("stage", "quality", "--input", out, "--output", back, "--param", "min_doc_words=50")
    assert {r["id"] for r in _rows(back, "lineage/superseded") if r["outcome"] == "kept"} == expected
    assert _release(back)["documents_root"] == _release(first)["documents_root"]
    assert _release(back)["lineage"]["params"]["quality"]["min_doc_words"] == {"old": float(threshold), "new": 50.0}
    _run("audit", "verify", back)
    chain = json.loads(_run("audit", "trace", back, doc, "--json", "--no-fetch"))[0]["lineage"]
    assert chain["superseded"][0]["outcome"] == "kept"
    assert chain["in_parent"][0]["status"] == "excluded"
    assert chain["in_parent"][0]["lineage"]["in_parent"][0]["status"] == "kept"


def test_looser_rules_bring_back_only_documents_the_stage_dropped(first, tmp_path):
    ledger = _rows(first, "exclusions")
    quality_dropped = {r["id"] for r in ledger if r["stage"] == "quality"}
    assert quality_dropped
    out = tmp_path / "loose"
    _run("stage", "quality", "--input", first, "--output", out, "--param", "rules=gopher_repetition_v1")
    kept = {r["id"]: r for r in _rows(out, "shards")}
    came_back = set(kept) - {r["id"] for r in _rows(first, "shards")}
    # exactly the documents dropped by a rule that is no longer applied (re-hydrated from their WARC records)
    expected = {r["id"] for r in ledger if r["stage"] == "quality" and r["rule"] != "gopher_repetition_v1"}
    assert came_back == expected
    assert all(kept[i]["text"] and kept[i]["quality"]["n_words"] for i in came_back)
    superseded = _rows(out, "lineage/superseded")
    assert {r["id"] for r in superseded if r["outcome"] == "kept"} == came_back
    assert not came_back & {r["id"] for r in _rows(out, "exclusions")}  # superseded, so not counted twice
    _run("audit", "verify", out)
    trace = json.loads(_run("audit", "trace", out, sorted(came_back)[0], "--json", "--no-fetch"))
    assert trace[0]["status"] == "kept"
    assert trace[0]["lineage"]["superseded"][0]["outcome"] == "kept"
    assert trace[0]["lineage"]["in_parent"][0]["stage"] == "quality"


def test_rights_policy_that_drops_reserved_documents_moves_them_and_nothing_else(tmp_path):
    parent = tmp_path / "rights"
    _run("run", "eu_web", "--input", TEST_DATA / "rights" / "pages.warc.gz", "--robots", TEST_DATA / "rights" / "robots.warc.gz",
         "--output", parent, "--param", "dedup=false")
    kept = _rows(parent, "shards")
    reserved = {r["id"] for r in kept if r["redistribution"] == "reserved"}
    assert 0 < len(reserved) < len(kept)
    policy = json.loads((ROOT / "manifests" / "policy-v2.json").read_text())
    policy.update(optout_action="drop", policy_version="rights-policy-v2-drop", agents=str(ROOT / "manifests" / policy["agents"]))
    (tmp_path / "drop.json").write_text(json.dumps(policy))
    out = tmp_path / "dropped"
    _run("stage", "rights", "--input", parent, "--output", out, "--param", f"policy={tmp_path / 'drop.json'}")
    moved = [r for r in _rows(out, "exclusions") if r["stage"] == "rights"]
    assert {r["id"] for r in moved} == reserved
    assert {r["reason"] for r in moved} == {"optout"} and {r["rule"] for r in moved} == {"rights-policy-v2-drop"}
    after = {r["id"]: r for r in _rows(out, "shards")}
    assert set(after) == {r["id"] for r in kept} - reserved
    before = {r["id"]: r for r in kept}
    assert all(after[i]["redistribution"] == before[i]["redistribution"] for i in after)
    _run("audit", "verify", out)
    # and back: the default policy keeps them in redistribution=reserved again, re-hydrated from the WARC
    back = tmp_path / "back"
    _run("stage", "rights", "--input", out, "--output", back, "--param", f"policy={ROOT / 'manifests' / 'policy-v2.json'}")
    assert {r["id"]: r["redistribution"] for r in _rows(back, "shards")} == {r["id"]: r["redistribution"] for r in kept}
    _run("audit", "verify", back)


def test_revived_documents_of_a_deduplicated_parent_are_deduplicated_against_it(tmp_path):
    # parent: the rights pages (one template, near-duplicates of each other) with a policy that drops opted-out
    # pages, then dedup; restaging with the default policy brings the opted-out pages back, and each must meet
    # the parent's kept copy in the dedup index
    policy = json.loads((ROOT / "manifests" / "policy-v2.json").read_text())
    policy.update(optout_action="drop", policy_version="rights-policy-v2-drop", agents=str(ROOT / "manifests" / policy["agents"]))
    (tmp_path / "drop.json").write_text(json.dumps(policy))
    parent = tmp_path / "parent"
    _run("run", "eu_web", "--input", TEST_DATA / "rights" / "pages.warc.gz", "--robots", TEST_DATA / "rights" / "robots.warc.gz",
         "--output", parent, "--param", f"policy={tmp_path / 'drop.json'}")
    dropped = {r["id"] for r in _rows(parent, "exclusions") if r["stage"] == "rights"}
    parent_kept = {r["id"] for r in _rows(parent, "shards")}
    assert dropped and parent_kept
    out = tmp_path / "reserve"
    _run("stage", "rights", "--input", parent, "--output", out, "--param", f"policy={ROOT / 'manifests' / 'policy-v2.json'}")
    assert {r["id"] for r in _rows(out, "lineage/superseded") if r["outcome"] == "kept"} == dropped
    dups = [r for p in (out / "exclusions").glob("phase=restage-*-dedup/*.parquet") for r in pq.read_table(p).to_pylist()]
    assert {r["id"] for r in dups} == dropped and all(r["kept_id"] in parent_kept for r in dups)
    assert {r["id"] for r in _rows(out, "shards")} == parent_kept
    assert json.loads((out / "dedup" / "index" / "params.json").read_text())["params"]["rule"] == "minhash_v1"
    _run("audit", "verify", out)


def _second_crawl(first, path) -> set[str]:
    """A new crawl: three pages of `first` re-fetched under new record ids and URLs, plus warcfile.warc.gz."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    from corpus_tools.readers.warc import stable_id

    picks = sorted(_rows(first, "shards"), key=lambda r: r["id"])[:3]
    new_ids = set()
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for row in picks:
            data = storage.read_range(row["warc_path"], row["warc_offset"], row["warc_length"])
            rec = next(iter(ArchiveIterator(io.BytesIO(data))))
            record_id = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, row['id'])}>"
            rec.rec_headers.replace_header("WARC-Record-ID", record_id)
            rec.rec_headers.replace_header("WARC-Target-URI", row["url"] + "?recrawl=1")
            writer.write_record(rec)
            new_ids.add(stable_id(record_id))
        with open(SAMPLE_CRAWL / "warcfile.warc.gz", "rb") as src:
            for rec in ArchiveIterator(src):
                writer.write_record(rec)
    return new_ids


def test_dedup_of_a_second_crawl_against_the_first_release_removes_only_cross_release_duplicates(first, tmp_path):
    warc = tmp_path / "crawl2" / "second.warc.gz"
    warc.parent.mkdir()
    copies = _second_crawl(first, warc)
    second = tmp_path / "second"
    _run("run", "eu_web", "--input", warc.parent, "--output", second)
    second_kept = {r["id"] for r in _rows(second, "shards")}
    assert copies <= second_kept and second_kept - copies  # the new crawl alone keeps them all

    out = tmp_path / "second-vs-first"
    _run("stage", "dedup", "--input", second, "--output", out, "--param", f"index={first}")
    kept = {r["id"] for r in _rows(out, "shards")}
    assert kept == second_kept - copies
    new_rows = [r for r in _rows(out, "exclusions") if r["stage"] == "dedup" and r["id"] in copies]
    first_kept = {r["id"] for r in _rows(first, "shards")}
    assert {r["id"] for r in new_rows} == copies
    assert all(r["kept_id"] in first_kept and json.loads(r["evidence"])["kept_in"] == "earlier_release" for r in new_rows)
    release = _release(out)
    assert release["lineage"]["params"]["dedup"]["index"]["new"] == [str(first)]
    _run("audit", "verify", out)


def test_recomputing_the_signals_with_the_same_thresholds_keeps_the_same_documents(first, tmp_path):
    out = tmp_path / "recompute"
    _run("stage", "quality", "--input", first, "--output", out, "--param", "recompute=true")
    assert {r["id"] for r in _rows(out, "shards", ["id"])} == {r["id"] for r in _rows(first, "shards", ["id"])}
    _run("audit", "verify", out)
