"""Quality stages: `QualitySignals` annotates, `QualityRules` decides (per language, named, versioned rules).

In a recipe, after language ID and before the writer:

    QualitySignals(), QualityRules(label_only=False), PiiMasker(), PiiDensityRule(), ShardWriter(...)

`QualitySignals` stores every measure in the `quality` column (corpus_tools/quality/signals.py).
`QualityRules` (a `Rule`) calls `quality.rules.decide()` on those stored values with the document's language
row of language_ids/quality_thresholds.tsv (with `overrides` applied); the first failed check excludes it:
`exclude(doc, "quality", reason="gopher_quality", rule="gopher_quality_v1", evidence={signal, measured,
threshold, threshold_key, lang, failed})`. All failed rules are also listed in `quality.rules_failed`, and with
`label_only=True` (recipe: `--param label_only=true`) that annotation is all it does: nothing is excluded.
"""

from __future__ import annotations

import json

from datatrove.data import Document

from corpus_tools.core.document import Annotator, Rule, Verdict
from corpus_tools.quality.rules import DEFAULT_RULES, check_rules, decide, reason_of
from corpus_tools.quality.signals import compute_signals
from corpus_tools.quality.thresholds import load_thresholds, parse_override, threshold_columns, with_overrides

STAGE = "quality"


class QualitySignals(Annotator):
    """Computes the `quality` struct once per document (one word split, tokenizer per language).
    thresholds_path: an alternative quality_thresholds.tsv (its stop words and tokenizer columns are used),
    default language_ids/quality_thresholds.tsv."""

    name = "QualitySignals"
    restage = "quality"
    param_aliases = {"thresholds": "thresholds_path"}

    def __init__(self, thresholds_path: str | None = None):
        super().__init__()
        self.thresholds_path = thresholds_path
        load_thresholds(thresholds_path)  # fail at start-up on a bad table

    def versions(self) -> dict:
        from corpus_tools.quality.signals import SIGNALS_VERSION

        return {"signals": SIGNALS_VERSION}

    def process(self, doc: Document) -> None:
        lang = doc.metadata.get("lang")
        row = load_thresholds(self.thresholds_path).get(lang or "")
        doc.metadata["quality"] = compute_signals(doc.text, lang, row.stop_words if row else frozenset())
        if row is None:
            self.stat_update("no_thresholds")


class QualityRules(Rule):
    """Applies the rules to the stored signals.
    rules: rule names in evaluation order, default gopher_repetition_v1, gopher_quality_v1, fineweb_quality_v2
      (FineWeb-2's set; c4_v1 is available);
    label_only: annotate `quality.rules_failed` but exclude nothing, default False;
    thresholds_path: an alternative quality_thresholds.tsv, default language_ids/quality_thresholds.tsv;
    overrides: (column, language or "", value) triples over the table, default none; `corpus stage quality
      --param min_stop_words=3` (every language) or `min_stop_words.deu_Latn=3` (one) sets them.
    Languages without a row (e.g. `other`) are annotated and kept (stat `no_thresholds`)."""

    name = "QualityRules"
    restage = "quality"
    param_aliases = {"thresholds": "thresholds_path"}

    def __init__(self, rules: tuple = DEFAULT_RULES, label_only: bool = False, thresholds_path: str | None = None,
                 overrides: tuple = ()):
        super().__init__(label_only=label_only)
        self.rules = check_rules(rules)
        self.rule = ",".join(self.rules)
        self.thresholds_path = thresholds_path
        self.overrides = tuple(sorted(tuple(o) for o in overrides))
        self.table = with_overrides(load_thresholds(thresholds_path), self.overrides)  # fails at start-up on a bad table

    @staticmethod
    def param_key(key: str, raw: str):
        """`corpus stage` keys beyond the constructor's: `COLUMN[.LANG]=value` -> one `overrides` triple; None
        for a key that names no threshold column (a bad value is a ConfigError)."""
        if key.partition(".")[0] not in threshold_columns():
            return None
        return "overrides", parse_override(key, raw)

    def decide(self, doc: Document) -> Verdict | None:
        quality = doc.metadata.get("quality")
        if quality is None:
            raise RuntimeError("QualityRules needs QualitySignals earlier in the pipeline")
        lang = doc.metadata.get("lang") or ""
        failures = decide(quality, lang, self.table, self.rules)
        quality["rules_failed"] = sorted({f.rule for f in failures})
        for rule in quality["rules_failed"]:
            self.stat_update(f"failed.{rule}")
        if not failures:
            return None
        first = failures[0]
        return Verdict(reason_of(first.rule), {
            "signal": first.signal, "measured": first.measured, "threshold": first.threshold,
            "threshold_key": first.threshold_key, "lang": lang,
            "failed": [f"{f.rule}:{f.signal}" for f in failures]}, first.rule)

    def changes(self, parent: "QualityRules") -> dict:
        """Lineage of the overrides, as an auditor reads them: `COLUMN[.LANG]` -> the parent's table value (one
        number, or per language where they differ) and the new one."""
        out = {}
        for column, lang, value in self.overrides:
            if (column, lang, value) in parent.overrides:
                continue
            old = {label: getattr(row, column) for label, row in parent.table.items() if not lang or label == lang}
            distinct = sorted(set(old.values()), key=lambda v: (v is None, v or 0))
            out[f"{column}.{lang}" if lang else column] = {
                "old": distinct[0] if len(distinct) == 1 else {"per_language": dict(sorted(old.items()))}, "new": value}
        return out

    def may_keep(self, row: dict, parent: "QualityRules") -> bool:
        """The first failed check is in the evidence: if it still fails, the document stays out (no re-hydration)."""
        if not super().may_keep(row, parent):
            return False
        if self.label_only:
            return True
        ev = json.loads(row.get("evidence") or "{}")
        rule, signal = row.get("rule"), ev.get("signal")
        if rule not in self.rules or signal is None:
            return True
        return not decide({signal: ev.get("measured")}, ev.get("lang") or row.get("lang") or "", self.table, rules=(rule,))
