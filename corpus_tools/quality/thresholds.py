"""Load `language_ids/quality_thresholds.tsv` and `language_ids/stopwords/<label>.txt`.

    from corpus_tools.quality.thresholds import load_thresholds
    load_thresholds()["deu_Latn"].dup_line_frac   # 0.263

A `-` cell means "check off" and loads as None. The loader fails at start-up (ConfigError) on a missing
column, a bad number, a label not in the registry, or a missing stop-word file.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import LANGUAGE_IDS

THRESHOLDS_TSV = LANGUAGE_IDS / "quality_thresholds.tsv"
STOPWORDS_DIR = LANGUAGE_IDS / "stopwords"


@dataclass(frozen=True)
class LangThresholds:
    label: str
    source: str
    language_score_glotlid: float | None
    dup_line_frac: float | None
    dup_para_frac: float | None
    dup_line_char_frac: float | None
    dup_para_char_frac: float | None
    top_2_gram_frac: float | None
    top_3_gram_frac: float | None
    top_4_gram_frac: float | None
    dup_5_gram_frac: float | None
    dup_6_gram_frac: float | None
    dup_7_gram_frac: float | None
    dup_8_gram_frac: float | None
    dup_9_gram_frac: float | None
    dup_10_gram_frac: float | None
    line_punct_thr: float | None
    short_line_thr: float | None
    c4_min_sentences: float | None
    char_dup_ratio: float | None
    new_line_ratio: float | None
    min_doc_words: float | None
    max_doc_words: float | None
    min_avg_word_length: float | None
    max_avg_word_length: float | None
    max_symbol_word_ratio: float | None
    max_bullet_lines_ratio: float | None
    max_ellipsis_lines_ratio: float | None
    min_alpha_words_ratio: float | None
    min_stop_words: float | None
    word_tokenizer: str
    tokenizer_lang: str
    stop_words: frozenset = frozenset()


TEXT_FIELDS = {"label", "source", "word_tokenizer", "tokenizer_lang"}
TSV_FIELDS = [f.name for f in dataclasses.fields(LangThresholds) if f.name != "stop_words"]


def _number(value: str, label: str, key: str) -> float | None:
    if value == "-":
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{THRESHOLDS_TSV.name}: {label} {key}={value!r} is not a number or '-'") from None


def load_stopwords(label: str, directory: Path = STOPWORDS_DIR) -> frozenset:
    path = directory / f"{label}.txt"
    if not path.exists():
        raise ConfigError(f"no stop-word list {path}: add one (one word a line) or remove {label} from the table")
    return frozenset(w.strip() for w in path.read_text(encoding="utf-8").splitlines()
                     if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=4)
def load_thresholds(path: str | None = None) -> dict[str, LangThresholds]:
    """label -> LangThresholds. `path`: another table of the same shape (stop words are looked up beside it)."""
    tsv = Path(path) if path else THRESHOLDS_TSV
    if not tsv.exists() and not tsv.is_absolute() and tsv.parts[0] == "language_ids":
        tsv = LANGUAGE_IDS.joinpath(*tsv.parts[1:])  # a bundled table named as in the checkout, from any folder
    if not tsv.exists():
        raise ConfigError(f"quality thresholds table {tsv} not found")
    lines = [line for line in tsv.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    missing = set(TSV_FIELDS) - set(reader.fieldnames or [])
    if missing:
        raise ConfigError(f"{tsv}: missing columns {sorted(missing)}")
    stop_dir = tsv.parent / "stopwords"
    table = {}
    for row in reader:
        label = row["label"]
        values = {k: (row[k] if k in TEXT_FIELDS else _number(row[k], label, k)) for k in TSV_FIELDS}
        table[label] = LangThresholds(**values, stop_words=load_stopwords(label, stop_dir))
    from corpus_tools.core.languages import is_target

    unknown = [label for label in table if not is_target(label)]
    if unknown:
        raise ConfigError(f"{tsv}: labels not in language_ids/registry.tsv: {unknown}")
    return table


def threshold_columns() -> list[str]:
    """The numeric threshold columns (what `overrides` may set)."""
    return [f for f in TSV_FIELDS if f not in TEXT_FIELDS]


def parse_override(key: str, value) -> tuple[str, str, float]:
    """`COLUMN` or `COLUMN.LANG` and its value -> (column, lang or "", value); ConfigError naming the columns."""
    column, _, lang = key.partition(".")
    if column not in threshold_columns():
        raise ConfigError(f"{column!r} is not a quality threshold column: choose from {', '.join(threshold_columns())}")
    try:
        return column, lang, float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--param {key}={value!r} is not a number: give e.g. {key}=3") from None


def with_overrides(table: dict[str, LangThresholds], overrides) -> dict[str, LangThresholds]:
    """`table` with (column, lang, value) overrides applied, a language's own over the all-language one."""
    if not overrides:
        return table
    labels = set(table)
    for column, lang, _ in overrides:
        if lang and lang not in labels:
            raise ConfigError(f"quality override {column}.{lang}: {lang} has no row in the thresholds table: use one of its labels")
    out = {}
    for label, row in table.items():
        changes = {c: v for c, lang, v in sorted(overrides, key=lambda o: bool(o[1])) if not lang or lang == label}
        out[label] = dataclasses.replace(row, **changes) if changes else row
    return out
