"""How a record travels through the pipeline: one datatrove `Document` per WARC record.

A record that does not become a kept document is not dropped from the stream: a stage marks it with
`exclude(doc, ...)` and it flows on to the writer, which puts it in the exclusions ledger. That keeps the
conservation law (records read = kept + excluded) true by construction, and later stages simply skip
excluded documents (`DocumentStep.run` does that for them).

Metadata keys starting with `_` are working state (raw HTML, HTTP headers) and are never written.
"""

from __future__ import annotations

import json
from abc import abstractmethod

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

EXCLUSION_KEY = "exclusion"


def exclude(doc: Document, stage: str, reason: str, rule: str | None = None, evidence: dict | None = None,
            kept_id: str | None = None) -> None:
    """Mark `doc` as excluded. `evidence` holds measured values and thresholds, never text or PII."""
    doc.metadata[EXCLUSION_KEY] = {
        "stage": stage,
        "reason": reason,
        "rule": rule,
        "evidence": json.dumps(evidence, sort_keys=True, ensure_ascii=False) if evidence else None,
        "kept_id": kept_id,
    }


def is_excluded(doc: Document) -> bool:
    return EXCLUSION_KEY in doc.metadata


class DocumentStep(PipelineStep):
    """A per-document stage: implement `process(doc)`; excluded documents pass through untouched."""

    type = "corpus"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            if not is_excluded(doc):
                with self.track_time():
                    self.process(doc)
                self.count(doc)
            yield doc

    def count(self, doc: Document) -> None:
        """Stats of a document this stage processed: passed, or excluded with its reason."""
        if is_excluded(doc):
            self.stat_update("excluded", f"excluded.{doc.metadata[EXCLUSION_KEY]['reason']}")
        else:
            self.stat_update("passed")

    @abstractmethod
    def process(self, doc: Document) -> None:
        """Annotate `doc` in place, and `exclude` it if a rule says so."""
