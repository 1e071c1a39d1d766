"""Quality stages: `QualitySignals` annotates, `QualityRules` decides (per language, named, versioned rules).

In a recipe, after language ID and before the writer:

    QualitySignals(), QualityRules(label_only=False), PiiMasker(), ShardWriter(...)

`QualitySignals` stores every measure in the `quality` column (corpus_tools/quality/signals.py).
`QualityRules` calls `decide()` on those stored values with the document's language row of
language_ids/quality_thresholds.tsv; the first failed check excludes the document:
`exclude(doc, "quality", reason="gopher_quality", rule="gopher_quality_v1", evidence={signal, measured,
threshold, threshold_key, lang, failed})`. All failed rules are also listed in `quality.rules_failed`, and with
`label_only=True` (recipe: `--param label_only=true`) that annotation is all it does: nothing is excluded.
"""

from __future__ import annotations

from datatrove.data import Document

from corpus_tools.document import DocumentStep, exclude
from corpus_tools.quality.rules import DEFAULT_RULES, check_rules, decide, reason_of
from corpus_tools.quality.signals import compute_signals
from corpus_tools.quality.thresholds import load_thresholds

STAGE = "quality"


class QualitySignals(DocumentStep):
    """Computes the `quality` struct once per document (one word split, tokenizer per language).
    thresholds_path: an alternative quality_thresholds.tsv (its stop words and tokenizer columns are used),
    default language_ids/quality_thresholds.tsv."""

    name = "QualitySignals"

    def __init__(self, thresholds_path: str | None = None):
        super().__init__()
        self.thresholds_path = thresholds_path
        load_thresholds(thresholds_path)  # fail at start-up on a bad table

    def process(self, doc: Document) -> None:
        lang = doc.metadata.get("lang")
        row = load_thresholds(self.thresholds_path).get(lang or "")
        doc.metadata["quality"] = compute_signals(doc.text, lang, row.stop_words if row else frozenset())
        if row is None:
            self.stat_update("no_thresholds")


class QualityRules(DocumentStep):
    """Applies the rules to the stored signals.
    rules: rule names in evaluation order, default gopher_repetition_v1, gopher_quality_v1, fineweb_quality_v2
      (FineWeb-2's set; c4_v1 is available);
    label_only: annotate `quality.rules_failed` but exclude nothing, default False;
    thresholds_path: an alternative quality_thresholds.tsv, default language_ids/quality_thresholds.tsv.
    Languages without a row (e.g. `other`) are annotated and kept (stat `no_thresholds`)."""

    name = "QualityRules"

    def __init__(self, rules=DEFAULT_RULES, label_only: bool = False, thresholds_path: str | None = None):
        super().__init__()
        self.rules = check_rules(rules)
        self.label_only = label_only
        self.thresholds_path = thresholds_path
        load_thresholds(thresholds_path)

    def process(self, doc: Document) -> None:
        quality = doc.metadata.get("quality")
        if quality is None:
            raise RuntimeError("QualityRules needs QualitySignals earlier in the pipeline")
        lang = doc.metadata.get("lang") or ""
        failures = decide(quality, lang, load_thresholds(self.thresholds_path), self.rules)
        quality["rules_failed"] = sorted({f.rule for f in failures})
        for rule in quality["rules_failed"]:
            self.stat_update(f"failed.{rule}")
        if not failures or self.label_only:
            return
        first = failures[0]
        exclude(doc, STAGE, reason_of(first.rule), rule=first.rule, evidence={
            "signal": first.signal, "measured": first.measured, "threshold": first.threshold,
            "threshold_key": first.threshold_key, "lang": lang,
            "failed": [f"{f.rule}:{f.signal}" for f in failures]})
