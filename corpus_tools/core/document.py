"""How a record travels through the pipeline: one datatrove `Document` per WARC record, and the two step types.

A record that does not become a kept document is not dropped from the stream: a step marks it with
`exclude(doc, ...)` and it flows on to the writer, which puts it in the exclusions ledger. That keeps the
conservation law (records read = kept + excluded) true by construction, and later steps simply skip
excluded documents (`DocumentStep.run` does that for them).

The step contract (issue 19):
- an `Annotator` adds columns (metadata) and never excludes;
- a `Rule` has a name and version (`rule`), typed constructor parameters with one default each (stored under
  the same attribute names, so `corpus stage` reads them from the signature), and one method
  `decide(doc) -> None | (reason, evidence)`; `Rule.process` writes the exclusion, in this one place.
  `label_only=True` records the verdict (stat `decided.<reason>`) and excludes nothing.
Batching lives once, in `DocumentStep.run`: a step with `batch_size > 1` gets `process_batch(docs)`.

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
import inspect
import json
import signal
import threading
from abc import abstractmethod
from typing import NamedTuple

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from loguru import logger

from corpus_tools.core.errors import CorpusError, describe_error

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

    batch_size = 1  # > 1: documents reach `process_batch` this many at a time, in order

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if self.batch_size > 1:
            batch: list[Document] = []
            for doc in data:
                batch.append(doc)
                if len(batch) == self.batch_size:
                    yield from self._run_batch(batch)
                    batch = []
            yield from self._run_batch(batch)
            return
        for doc in data:
            if not is_excluded(doc):
                with self.track_time():
                    self.process(doc)
                self.count(doc)
            yield doc

    def _run_batch(self, docs: list[Document]) -> list[Document]:
        live = [d for d in docs if not is_excluded(d)]
        if live:
            with self.track_time():
                self.process_batch(docs)
            for doc in live:
                self.count(doc)
        return docs

    def process_batch(self, docs: list[Document]) -> list[Document]:
        """The documents of one batch (excluded ones included, to be skipped); default one `process` each."""
        for doc in docs:
            if not is_excluded(doc):
                self.process(doc)
        return docs

    @classmethod
    def parameters(cls) -> dict[str, inspect.Parameter]:
        """The constructor's parameters: the step's configuration, each with its one default."""
        return {n: p for n, p in inspect.signature(cls.__init__).parameters.items()
                if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def params(self) -> dict:
        """This instance's configuration: every constructor parameter's value (stored under its name)."""
        return {name: getattr(self, name) for name in self.parameters()}

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


class Annotator(DocumentStep):
    """A step that adds columns and never excludes (exclusions are a `Rule`'s).

    stored: its columns are written with the document, so a restage need not re-run it on kept documents;
      False (e.g. `HtmlSignals`, whose signals are working state) makes a restage re-read the WARC record."""

    stored = True


class Verdict(NamedTuple):
    """A rule's decision to exclude: ledger `reason`, `evidence` (measured values and thresholds, never text),
    and `rule` when one step applies several named rules (default: the step's `rule`)."""

    reason: str
    evidence: dict | None = None
    rule: str | None = None


class Rule(DocumentStep):
    """A named, versioned decision. Subclasses set `rule` (e.g. `pii_density_v2`) and `stage` (the ledger
    stage), take typed constructor parameters with one default each, and implement `decide`.

    label_only: decide and count (stat `decided.<reason>`) but exclude nothing, default False."""

    rule = ""

    def __init__(self, label_only: bool = False):
        super().__init__()
        self.label_only = label_only

    @abstractmethod
    def decide(self, doc: Document) -> Verdict | tuple | None:
        """None to keep `doc`, else (reason, evidence[, rule])."""

    def process(self, doc: Document) -> None:
        verdict = self.decide(doc)
        if verdict is None:
            return
        verdict = Verdict(*verdict)
        self.stat_update(f"decided.{verdict.reason}")
        if not self.label_only:
            exclude(doc, self.ledger_stage(), verdict.reason, rule=verdict.rule or self.rule, evidence=verdict.evidence)

    def may_keep(self, row: dict, parent: "Rule") -> bool:
        """Restage: may a ledger row this rule's class wrote under `parent` (the parent's instance) be kept by
        this instance? Only such rows are re-hydrated. Default: when any parameter differs."""
        return self.params() != parent.params()
