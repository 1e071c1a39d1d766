"""The explicit Parquet schemas: documents (shards) and exclusions (the ledger).

Columns are grouped as in DESIGN.md. A stage that owns a column fills it; the writer fills the rest with
nulls, so every shard has the same schema whatever stages ran. Metadata keys starting with `_` are
working state and are never written.

Also the release's folder keys (hive partitions): `shards/language=L/redistribution_class=R/` and
`exclusions/phase=P/`. No key is the name of a column of the files below it, so pandas, pyarrow, polars,
DuckDB and HF datasets read the same values with their hive defaults (tests/test_interop.py).

JSON columns (`licence_evidence`, `optout_evidence`, the ledger's `evidence`) are UTF-8 JSON strings with
sorted keys: their shape differs per rule and signal, which a Parquet struct cannot hold without making
every key nullable; read them with `json.loads`, DuckDB `json_extract` or polars `str.json_decode`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools.core import storage

PROVENANCE = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("domain", pa.string()),
    pa.field("warc_path", pa.string()),
    pa.field("warc_record_id", pa.string()),
    pa.field("warc_offset", pa.int64()),
    pa.field("warc_length", pa.int64()),
    pa.field("warc_date", pa.timestamp("us", tz="UTC")),   # WARC-Date (or ARC archive-date); null if unreadable
    pa.field("payload_digest", pa.string()),
    pa.field("http_status", pa.int16()),
    pa.field("content_type", pa.string()),
]

CONTENT = [
    pa.field("text", pa.string()),
    pa.field("title", pa.string()),
    pa.field("text_sha256", pa.string()),
    pa.field("n_chars", pa.int64()),
    pa.field("n_words", pa.int64()),
]

LANG_TOP = pa.list_(pa.struct([pa.field("label", pa.string()), pa.field("score", pa.float32())]))

LANGUAGE = [
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float32()),
    pa.field("lang_top", LANG_TOP),
    pa.field("html_lang", pa.string()),
    pa.field("lang_flags", pa.list_(pa.string())),          # short, mixed, below_threshold (stages/lid.py)
    pa.field("lang_paragraphs", pa.list_(pa.struct([pa.field("label", pa.string()), pa.field("score", pa.float32()),
                                                     pa.field("n_chars", pa.int32())]))),
]

RIGHTS = [
    pa.field("licence", pa.string()),
    pa.field("licence_evidence", pa.string()),
    pa.field("redistribution", pa.string()),
    pa.field("tdm_reserved", pa.bool_()),
    pa.field("optout_reasons", pa.list_(pa.string())),     # machine-readable opt-outs only, never a copyright notice
    pa.field("copyright_notice", pa.bool_()),               # an "all rights reserved" footer: reserved, not an opt-out
    pa.field("train_eligible", pa.bool_()),
    pa.field("policy_version", pa.string()),
    pa.field("optout_evidence", pa.string()),          # JSON: TDMRep state/source, noai, Content-Usage, dated robots verdict
    pa.field("robots_ai_disallow", pa.list_(pa.string())),  # AI-training agents robots.txt disallows (null: not checked)
    pa.field("robots_star_disallow", pa.bool_()),
]

_F64 = pa.float64()
QUALITY_STRUCT = pa.struct(
    [pa.field("signals_version", pa.string()), pa.field("tokenizer", pa.string())]
    + [pa.field(n, pa.int32()) for n in ("n_words", "n_non_symbol_words")]
    + [pa.field(n, _F64) for n in ("avg_word_length", "hash_word_ratio", "ellipsis_word_ratio", "bullet_lines_ratio",
                                   "end_ellipsis_lines_ratio", "alpha_words_ratio")]
    + [pa.field("stop_words", pa.int32())]
    + [pa.field(n, _F64) for n in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")]
    + [pa.field(f"top_{n}_gram_frac", _F64) for n in (2, 3, 4)]
    + [pa.field(f"dup_{n}_gram_frac", _F64) for n in range(5, 11)]
    + [pa.field(n, _F64) for n in ("line_punct_ratio", "short_line_ratio", "char_dup_ratio", "new_line_ratio")]
    + [pa.field("c4_n_sentences", pa.int32()), pa.field("c4_lorem_ipsum", pa.bool_()),
       pa.field("c4_curly_bracket", pa.bool_()), pa.field("rules_failed", pa.list_(pa.string()))])
PII_COUNTS_STRUCT = pa.struct([pa.field(n, pa.int32()) for n in ("email", "ip", "phone", "iban", "total")])

QUALITY_PII = [  # corpus_tools/quality/signals.py and stages/pii.py
    pa.field("quality", QUALITY_STRUCT),
    pa.field("pii_counts", PII_COUNTS_STRUCT),
]

DEDUP = [
    pa.field("dup_cluster_id", pa.string()),
    pa.field("dup_cluster_size", pa.int32()),
]

RUN = [
    pa.field("run_id", pa.string()),
    pa.field("pipeline_version", pa.string()),
]

DOCUMENT_SCHEMA = pa.schema(PROVENANCE + CONTENT + LANGUAGE + RIGHTS + QUALITY_PII + DEDUP + RUN)

EXCLUSION_SCHEMA = pa.schema(PROVENANCE + [
    pa.field("stage", pa.string(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
    pa.field("rule", pa.string()),
    pa.field("evidence", pa.string()),      # JSON: measured values, thresholds, scores; never text or PII
    pa.field("kept_id", pa.string()),       # for duplicates: the id of the document that was kept
    pa.field("lang", pa.string()),
    pa.field("policy_version", pa.string()),
    pa.field("run_id", pa.string()),
    pa.field("pipeline_version", pa.string()),
])

PROVENANCE_COLUMNS = [f.name for f in PROVENANCE]

SHARD_KEYS = ("language", "redistribution_class")   # never `lang` / `redistribution`: those are columns
LEDGER_KEY = "phase"                                # never `stage`: the column says which stage excluded a row


def partition_dirs(lang: str, redistribution: str) -> list[str]:
    """The folders of a shard under `shards/`: `["language=deu_Latn", "redistribution_class=unknown"]`."""
    return [f"{SHARD_KEYS[0]}={lang}", f"{SHARD_KEYS[1]}={redistribution}"]


def ledger_dir(phase: str) -> str:
    """The ledger folder a phase writes: `exclusions/phase=docs`, `exclusions/phase=dedup`, ..."""
    return f"exclusions/{LEDGER_KEY}={phase}"


def path_key(path: str, key: str) -> str | None:
    """The value of hive folder `key=` in a path, None if it has none."""
    return next((p.split("=", 1)[1] for p in path.replace("\\", "/").split("/") if p.startswith(key + "=")), None)


def warc_timestamp(value) -> datetime | None:
    """WARC-Date (ISO 8601, `Z` or an offset, fractions allowed) or ARC archive-date (14 digits) -> an aware
    UTC datetime; a datetime passes through (a row read back); None if unreadable."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not value or not isinstance(value, str):
        return None
    v = value.strip()
    if re.fullmatch(r"\d{14}", v):
        return datetime.strptime(v, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return d.astimezone(timezone.utc) if d.tzinfo else d.replace(tzinfo=timezone.utc)


def warc_date_text(value) -> str | None:
    """The ISO 8601 form (`2010-09-09T16:33:24Z`) of a stored `warc_date`, for steps that read the header text."""
    d = warc_timestamp(value)
    if d is None:
        return value if isinstance(value, str) else None
    return d.strftime("%Y-%m-%dT%H:%M:%S") + (f".{d.microsecond:06d}" if d.microsecond else "") + "Z"


ROW_GROUP = 2000


def write_table(url: str, rows: "list[dict] | pa.Table", schema: pa.Schema) -> None:
    """Write rows (dicts, or a pyarrow Table with these columns) as one zstd Parquet file, atomically.
    Deterministic: same rows, same bytes."""
    table = rows.select(schema.names).cast(schema) if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    with storage.atomic_write(url) as fh:
        pq.write_table(table, fh, compression="zstd", row_group_size=ROW_GROUP, write_statistics=True)
