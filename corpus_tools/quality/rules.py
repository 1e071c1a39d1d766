"""Named, versioned quality rules that decide from stored signals only.

    from corpus_tools.quality.rules import decide
    failures = decide(doc.metadata["quality"], "deu_Latn")      # [] when the document passes
    failures[0]  # Failure(rule='gopher_quality_v1', signal='stop_words', measured=1, threshold=2.0, ...)

`decide` reads nothing but the `quality` struct and the per-language table, so a later tool can re-decide a
whole release with new thresholds (`load_thresholds(path)`) without recomputing a single signal. A rule's
semantics never change under its name: a change gets a new version (`gopher_quality_v2`) and the old one stays.

Each check compares one signal with one column of language_ids/quality_thresholds.tsv:
`max`: fails when measured > threshold; `min`: fails when measured < threshold; `false`: fails when the
signal is true (the threshold column then enables the check). A threshold of `-` (None) turns the check off.
"""

from __future__ import annotations

from typing import NamedTuple

from corpus_tools.core.errors import ConfigError
from corpus_tools.quality.thresholds import LangThresholds, load_thresholds


class Check(NamedTuple):
    name: str          # the threshold column
    signal: str        # the field of the quality struct
    op: str            # "max" | "min" | "false"


class Failure(NamedTuple):
    rule: str
    signal: str                 # the quality field that failed
    measured: float | bool
    threshold: float | None     # None for `false` checks
    threshold_key: str          # the column of quality_thresholds.tsv


def _rep(n: int, kind: str) -> Check:
    return Check(f"{kind}_{n}_gram_frac", f"{kind}_{n}_gram_frac", "max")


# FineWebQualityFilter's checks (the versions differ in how line_punct_ratio is measured, see below)
_FINEWEB = (
    Check("line_punct_thr", "line_punct_ratio", "min"),
    Check("short_line_thr", "short_line_ratio", "max"),
    Check("char_dup_ratio", "char_dup_ratio", "max"),
    Check("new_line_ratio", "new_line_ratio", "max"),
)

RULES: dict[str, tuple[Check, ...]] = {
    # GopherRepetitionFilter (Rae et al. 2021, table A1), order as datatrove evaluates it
    "gopher_repetition_v1": (
        Check("dup_para_frac", "dup_para_frac", "max"),
        Check("dup_para_char_frac", "dup_para_char_frac", "max"),
        Check("dup_line_frac", "dup_line_frac", "max"),
        Check("dup_line_char_frac", "dup_line_char_frac", "max"),
        *(_rep(n, "top") for n in (2, 3, 4)),
        *(_rep(n, "dup") for n in range(5, 11)),
    ),
    # GopherQualityFilter
    "gopher_quality_v1": (
        Check("min_doc_words", "n_non_symbol_words", "min"),
        Check("max_doc_words", "n_non_symbol_words", "max"),
        Check("min_avg_word_length", "avg_word_length", "min"),
        Check("max_avg_word_length", "avg_word_length", "max"),
        Check("max_symbol_word_ratio", "hash_word_ratio", "max"),
        Check("max_symbol_word_ratio", "ellipsis_word_ratio", "max"),
        Check("max_bullet_lines_ratio", "bullet_lines_ratio", "max"),
        Check("max_ellipsis_lines_ratio", "end_ellipsis_lines_ratio", "max"),
        Check("min_alpha_words_ratio", "alpha_words_ratio", "min"),
        Check("min_stop_words", "stop_words", "min"),
    ),
    # FineWebQualityFilter, on quality_signals_v1 (datatrove's terminal punctuation on the raw line end). Kept so
    # old ledgers and restage parameters stay valid; on v2 signals it reads the script-aware line_punct_ratio.
    "fineweb_quality_v1": _FINEWEB,
    # the same checks on quality_signals_v2: a line is punctuated by script-aware marks after closing quotes and
    # brackets (language_ids/quality_punctuation.tsv: Armenian ":", Greek ";", "…", `.»`)
    "fineweb_quality_v2": _FINEWEB,
    # C4QualityFilter as FineWeb used it (no terminal-punctuation line filter); not part of FineWeb-2
    "c4_v1": (
        Check("c4_min_sentences", "c4_lorem_ipsum", "false"),
        Check("c4_min_sentences", "c4_curly_bracket", "false"),
        Check("c4_min_sentences", "c4_n_sentences", "min"),
    ),
}

# FineWeb-2's filter set. c4_v1 is available (`rules=`) but off: FineWeb-2 does not use C4's rules, and its
# curly-bracket and 5-sentence rules remove much good non-English and short-form text.
DEFAULT_RULES = ("gopher_repetition_v1", "gopher_quality_v1", "fineweb_quality_v2")


def reason_of(rule: str) -> str:
    """The ledger reason for a rule: its name without the version (`gopher_quality_v1` -> `gopher_quality`)."""
    return rule.rsplit("_v", 1)[0]


def check_rules(rules) -> tuple[str, ...]:
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ConfigError(f"unknown quality rules {unknown}: choose from {sorted(RULES)}")
    return tuple(rules)


def _fails(check: Check, measured, threshold) -> bool:
    if check.op == "max":
        return measured > threshold
    if check.op == "min":
        return measured < threshold
    return bool(measured)


def decide(quality: dict, lang: str, thresholds: dict[str, LangThresholds] | None = None,
           rules=DEFAULT_RULES, first_only: bool = False) -> list[Failure]:
    """Every failed check of `rules`, in rule order. A language without a row in the table fails nothing."""
    row = (thresholds if thresholds is not None else load_thresholds()).get(lang)
    if row is None:
        return []
    failures = []
    for rule in rules:
        for check in RULES[rule]:
            threshold = getattr(row, check.name)
            measured = quality.get(check.signal)
            if threshold is None or measured is None:
                continue
            if _fails(check, measured, threshold):
                failures.append(Failure(rule, check.signal, measured,
                                        None if check.op == "false" else threshold, check.name))
                if first_only:
                    return failures
    return failures
