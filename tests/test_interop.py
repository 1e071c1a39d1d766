"""Shards and ledger read with each tool's defaults (hive partitioning on): pandas, pyarrow.dataset, polars,
DuckDB and HF datasets give the same rows, languages, classes and stages as the files' own columns.

The folder keys (`language=`, `redistribution_class=`, `phase=`) are never column names of the files, so no
tool has to reconcile a folder value with a column of the same name (the bug was pandas refusing `lang`
as string vs dictionary, and DuckDB reporting every docs-phase exclusion as stage `docs`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pyarrow.parquet as pq
import pytest


def _truth(root) -> tuple[Counter, Counter]:
    """(lang, redistribution) and stage counts read file by file, without any partitioning."""
    docs, stages = Counter(), Counter()
    for f in sorted((root / "shards").rglob("*.parquet")):
        t = pq.read_table(f, columns=["lang", "redistribution"], partitioning=None)
        docs.update(zip(t["lang"].to_pylist(), t["redistribution"].to_pylist()))
    for f in sorted((root / "exclusions").rglob("*.parquet")):
        stages.update(pq.read_table(f, columns=["stage"], partitioning=None)["stage"].to_pylist())
    return docs, stages


@pytest.fixture(scope="module")
def truth(sample_run):
    docs, stages = _truth(sample_run)
    assert sum(docs.values()) > 0 and {"read", "lid", "quality", "dedup"} <= set(stages)
    return docs, stages


def test_pandas_reads_the_folders(sample_run, truth):
    import pandas as pd

    shards = pd.read_parquet(sample_run / "shards")
    assert Counter(zip(shards["lang"], shards["redistribution"])) == truth[0]
    assert (shards["language"].astype(str) == shards["lang"]).all()
    assert str(shards["warc_date"].dtype) == "datetime64[us, UTC]"
    ledger = pd.read_parquet(sample_run / "exclusions")
    assert Counter(ledger["stage"]) == truth[1]
    assert set(ledger["phase"].astype(str)) == {"docs", "dedup"}


def test_pyarrow_dataset_with_hive_partitioning(sample_run, truth):
    import pyarrow as pa
    import pyarrow.dataset as ds

    shards = ds.dataset(sample_run / "shards", partitioning="hive").to_table()
    assert Counter(zip(shards["lang"].to_pylist(), shards["redistribution"].to_pylist())) == truth[0]
    assert shards["redistribution_class"].to_pylist() == shards["redistribution"].to_pylist()
    assert shards.schema.field("warc_date").type == pa.timestamp("us", tz="UTC")
    ledger = ds.dataset(sample_run / "exclusions", partitioning="hive").to_table()
    assert Counter(ledger["stage"].to_pylist()) == truth[1]


def test_polars_scan_with_hive_partitioning(sample_run, truth):
    import polars as pl

    shards = pl.scan_parquet(sample_run / "shards", hive_partitioning=True).collect()
    assert Counter(shards.select("lang", "redistribution").iter_rows()) == truth[0]
    assert shards.schema["warc_date"] == pl.Datetime("us", "UTC")
    ledger = pl.scan_parquet(sample_run / "exclusions", hive_partitioning=True).collect()
    assert Counter(ledger["stage"].to_list()) == truth[1]


def test_duckdb_with_hive_partitioning(sample_run, truth):
    import duckdb

    con = duckdb.connect()
    rows = con.execute(f"SELECT lang, redistribution, language, count(*) FROM read_parquet('{sample_run}/shards/**/*.parquet', "
                       "hive_partitioning=true) GROUP BY ALL").fetchall()
    assert Counter({(lang, red): n for lang, red, _, n in rows}) == truth[0]
    assert all(lang == language for lang, _, language, _ in rows)
    stages = con.execute(f"SELECT stage, count(*) FROM read_parquet('{sample_run}/exclusions/**/*.parquet', "
                         "hive_partitioning=true) GROUP BY ALL").fetchall()
    assert Counter(dict(stages)) == truth[1]
    kind = con.execute(f"SELECT typeof(warc_date) FROM read_parquet('{sample_run}/shards/**/*.parquet') LIMIT 1").fetchone()[0]
    assert kind == "TIMESTAMP WITH TIME ZONE"


def test_hf_datasets_load_parquet(sample_run, truth, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    shards = datasets.load_dataset("parquet", data_dir=str(sample_run / "shards"), split="train", cache_dir=str(tmp_path))
    assert Counter(zip(shards["lang"], shards["redistribution"])) == truth[0]
    assert isinstance(shards[0]["warc_date"], datetime) and shards[0]["warc_date"].tzinfo is not None
    ledger = datasets.load_dataset("parquet", data_dir=str(sample_run / "exclusions"), split="train", cache_dir=str(tmp_path))
    assert Counter(ledger["stage"]) == truth[1]


def test_no_folder_key_is_a_column_of_the_files_below_it():
    from corpus_tools.core.schema import DOCUMENT_SCHEMA, EXCLUSION_SCHEMA, LEDGER_KEY, SHARD_KEYS

    assert not set(SHARD_KEYS) & set(DOCUMENT_SCHEMA.names)
    assert LEDGER_KEY not in EXCLUSION_SCHEMA.names


def test_warc_dates_are_utc_timestamps():
    from corpus_tools.core.schema import warc_date_text, warc_timestamp

    assert warc_timestamp("2010-09-09T16:33:24Z").isoformat() == "2010-09-09T16:33:24+00:00"
    assert warc_timestamp("20100909163324") == warc_timestamp("2010-09-09T18:33:24+02:00")
    assert warc_timestamp("not a date") is None and warc_timestamp(None) is None
    assert warc_date_text(warc_timestamp("2021-03-04T05:06:07.5Z")) == "2021-03-04T05:06:07.500000Z"
