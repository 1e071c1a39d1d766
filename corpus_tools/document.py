"""How a record travels through the pipeline: one datatrove `Document` per WARC record.

A record that does not become a kept document is not dropped from the stream: a stage marks it with
`exclude(doc, ...)` and it flows on to the writer, which puts it in the exclusions ledger. That keeps the
conservation law (records read = kept + excluded) true by construction, and later stages simply skip
excluded documents (`DocumentStep.run` does that for them).

Fault isolation lives here, once, for every per-document step: an exception while a step processes one
document (a malformed URL, JSON-LD nested too deep for the parser, a bug that only one page triggers) turns
that document into a ledger row (the step's stage, reason `processing_error`, rule `processing_error_v1`,
evidence = the exception type and a short message, never text) and the task goes on. A batch that raises is
retried one document at a time, so only the documents that fail are lost. I/O errors (`OSError`) and the
project's own errors (`CorpusError`: a bad model or data file, an unreachable store) are not a document's
fault: they still fail the task, which is retried and recorded, instead of excluding every document. A document that uses more than
`CPU_BUDGET_S` of CPU in one step becomes a `too_complex` row (a backstop; `HtmlSignals` refuses the known
pathological shapes before parsing).

Metadata keys starting with `_` are working state (raw HTML, HTTP headers) and are never written.
"""

from __future__ import annotations

import functools
import json
import signal
import threading
from abc import abstractmethod

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from loguru import logger

from corpus_tools.errors import CorpusError, describe_error

EXCLUSION_KEY = "exclusion"
PROCESSING_ERROR = "processing_error"
TOO_COMPLEX = "too_complex"
# CPU seconds one step may spend on one document before it becomes `too_complex`: 100x the slowest real
# page we measured in any step (trafilatura, ~0.3 s on a 1 MB page), so no real page comes near it
CPU_BUDGET_S = 30.0
_TASK_ERRORS = (OSError, CorpusError)


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


class BudgetExceeded(Exception):
    """A document used more CPU in one step than `CPU_BUDGET_S`."""


def _on_budget(signum, frame):
    raise BudgetExceeded(f"more than {CPU_BUDGET_S:g} CPU s in one step")


class _CpuBudget:
    """A process CPU-time alarm (ITIMER_VIRTUAL, so it never collides with `signal.alarm`) around one
    document; only in the main thread, where Python delivers signals, and a no-op elsewhere."""

    def __enter__(self):
        self.armed = threading.current_thread() is threading.main_thread() and CPU_BUDGET_S > 0
        if self.armed:
            self.previous = signal.signal(signal.SIGVTALRM, _on_budget)
            signal.setitimer(signal.ITIMER_VIRTUAL, CPU_BUDGET_S)
        return self

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            signal.signal(signal.SIGVTALRM, self.previous)
        return False


def _isolated_process(process):
    @functools.wraps(process)
    def guarded(self, doc: Document) -> None:
        try:
            with _CpuBudget():
                process(self, doc)
        except _TASK_ERRORS:
            raise  # the task's input, output or configuration, not this document: fail the task
        except Exception as e:
            self.record_failure(doc, e)
    return guarded


def _isolated_batch(process_batch):
    @functools.wraps(process_batch)
    def guarded(self, docs: list[Document]) -> list[Document]:
        live = [d for d in docs if not is_excluded(d)]
        try:
            return process_batch(self, docs)
        except _TASK_ERRORS:
            raise
        except Exception as e:
            if len(live) <= 1:
                for doc in live:
                    self.record_failure(doc, e)
                return docs
        for doc in live:  # one at a time, so that only the documents that fail are lost
            doc.metadata.pop(EXCLUSION_KEY, None)  # a decision the failed batch made is made again
            guarded(self, [doc])
        return docs
    return guarded


class DocumentStep(PipelineStep):
    """A per-document stage: implement `process(doc)` (and optionally `process_batch(docs)`); excluded
    documents pass through untouched. Both methods are isolated per document (see the module docstring)
    in every subclass, however it is run, so a step never needs its own try/except for robustness.

    stage: the ledger `stage` of this step's `processing_error` / `too_complex` rows; default the `STAGE`
    of the step's module, else the step's name."""

    type = "corpus"
    stage: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "process" in cls.__dict__ and not getattr(cls.__dict__["process"], "__isabstractmethod__", False):
            cls.process = _isolated_process(cls.__dict__["process"])
        if "process_batch" in cls.__dict__:
            cls.process_batch = _isolated_batch(cls.__dict__["process_batch"])

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            if not is_excluded(doc):
                with self.track_time():
                    self.process(doc)
                self.count(doc)
            yield doc

    def ledger_stage(self) -> str:
        import sys

        return self.stage or getattr(sys.modules.get(type(self).__module__), "STAGE", None) or self.name

    def record_failure(self, doc: Document, error: Exception) -> None:
        """`doc` could not be processed: a ledger row with the error's type and message, never its text."""
        reason = TOO_COMPLEX if isinstance(error, (BudgetExceeded, RecursionError)) else PROCESSING_ERROR
        doc.metadata.pop(EXCLUSION_KEY, None)
        exclude(doc, self.ledger_stage(), reason, rule=f"{reason}_v1",
                evidence={"step": self.name, "error": describe_error(error)})
        self.stat_update(reason)
        logger.info(f"{self.name}: document {doc.id} -> {reason} ({type(error).__name__})")

    def count(self, doc: Document) -> None:
        """Stats of a document this stage processed: passed, or excluded with its reason."""
        if is_excluded(doc):
            self.stat_update("excluded", f"excluded.{doc.metadata[EXCLUSION_KEY]['reason']}")
        else:
            self.stat_update("passed")

    @abstractmethod
    def process(self, doc: Document) -> None:
        """Annotate `doc` in place, and `exclude` it if a rule says so."""
