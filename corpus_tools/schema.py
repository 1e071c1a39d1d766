"""The explicit Parquet schemas: documents (shards) and exclusions (the ledger).

Columns are grouped as in DESIGN.md. A stage that owns a column fills it; the writer fills the rest with
nulls, so every shard has the same schema whatever stages ran. Metadata keys starting with `_` are
working state and are never written.
"""

from __future__ import annotations

import pyarrow as pa

PROVENANCE = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("domain", pa.string()),
    pa.field("warc_path", pa.string()),
    pa.field("warc_record_id", pa.string()),
    pa.field("warc_offset", pa.int64()),
    pa.field("warc_length", pa.int64()),
    pa.field("warc_date", pa.string()),
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
