"""Dedup against an earlier release's index: old documents stay the representatives."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from corpus_tools.dedup import dedup_phases, index_dirs_from_options, params_from_options
from corpus_tools.dedup import evaluate as ev
from corpus_tools.core.errors import ConfigError
from corpus_tools.core.recipe import RunOptions
from tests.dedup.test_quality import GROUND_TRUTH


def _ids(out, sub):
    return {r for p in (out / sub).rglob("*.parquet") for r in pq.read_table(p, columns=["id"]).column("id").to_pylist()}


def test_new_crawl_is_deduplicated_against_the_earlier_release(tmp_path):
    docs = ev.planted_corpus(ev.load_articles(GROUND_TRUTH)[:8], rates=(0.0, 0.01, 0.1))
    first, second = tmp_path / "first", tmp_path / "second"
    ev.write_staging(first, [d for d in docs if d["family"] < 6])
    ev.run_steps(ev.dedup_steps(str(first)), tasks=2)
    # the new crawl re-fetches families 3..7 under new record ids
    new = [{**d, "id": "n" + d["id"]} for d in docs if d["family"] >= 3]
    ev.write_staging(second, new)
    index = index_dirs_from_options({"dedup_index": str(first)}, params_from_options({}))
    ev.run_steps(ev.dedup_steps(str(second), index_dirs=index), tasks=3)

    first_kept = _ids(first, "shards")
    ledger = [r for p in (second / "exclusions").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    against_old = [r for r in ledger if not r["kept_id"].startswith("n")]
    assert against_old and all(r["kept_id"] in first_kept for r in against_old)
    assert all(json.loads(r["evidence"])["kept_in"] == "earlier_release" for r in against_old)
    # families 3..5 were in the earlier release: none of their new copies of kept pages is kept again
    second_kept = _ids(second, "shards")
    old_families = {d["id"][1:] for d in new if d["family"] < 6}
    dup_of_old = {"n" + i for i in old_families if i in first_kept}
    assert dup_of_old and not (dup_of_old & second_kept)
    # families 6..7 are new: deduplicated among themselves, their representatives kept
    assert any(i.startswith("na0006") for i in second_kept)
    # this run wrote its own index for the next one
    assert (second / "dedup" / "index" / "params.json").exists()
    assert _ids(second, "dedup/index") == second_kept


def test_recrawl_of_the_same_records_keeps_nothing_new(tmp_path):
    docs = ev.planted_corpus(ev.load_articles(GROUND_TRUTH)[:3], rates=(0.1,))
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        ev.write_staging(out, docs)  # same records, same ids
    ev.run_steps(ev.dedup_steps(str(first)), tasks=1)
    index = index_dirs_from_options({"dedup_index": str(first)}, params_from_options({}))
    ev.run_steps(ev.dedup_steps(str(second), index_dirs=index), tasks=2)
    ledger = [r for p in (second / "exclusions").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert not _ids(second, "shards")
    assert sorted(r["id"] for r in ledger) == sorted(r["kept_id"] for r in ledger) == sorted(_ids(first, "shards"))
    assert {r["reason"] for r in ledger} == {"exact_duplicate"}


def test_index_with_other_parameters_or_missing_is_refused(tmp_path):
    docs = ev.planted_corpus(ev.load_articles(GROUND_TRUTH)[:1], rates=(0.0,))
    ev.write_staging(tmp_path, docs, files=1)
    ev.run_steps(ev.dedup_steps(str(tmp_path)), tasks=1)
    with pytest.raises(ConfigError, match="other MinHash parameters"):
        index_dirs_from_options({"dedup_index": str(tmp_path)}, params_from_options({"dedup_bands": "16"}))
    with pytest.raises(ConfigError, match="no dedup index"):
        index_dirs_from_options({"dedup_index": str(tmp_path / "nowhere")}, params_from_options({}))
    opts = RunOptions(inputs=[], output=str(tmp_path / "o"), params={"dedup_threshold": "high"})
    with pytest.raises(ConfigError, match="dedup_threshold"):
        dedup_phases(opts)
