"""Per-document fault isolation (corpus_tools/core/document.py) and the pre-parse budget of HtmlSignals, on the
hostile pages of tests/data/hostile/ (a real blog page with hostile markup injected; see SOURCES.md there)."""

from __future__ import annotations

import json
import time

import pytest
from datatrove.data import Document

from corpus_tools.core.document import DocumentStep, exclude, is_excluded
from corpus_tools.core.errors import ConfigError
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.stages.extract import TrafilaturaExtractor
from corpus_tools.stages.signals import HtmlSignals
from tests.conftest import TEST_DATA

HOSTILE = TEST_DATA / "hostile"


def hostile_docs() -> dict[str, Document]:
    docs = WarcRecordReader([str(HOSTILE / "hostile.warc.gz"), str(HOSTILE / "misframed.warc")]).run()
    return {d.metadata["url"].rsplit("case=", 1)[1]: d for d in docs}


def row(doc):
    ex = doc.metadata.get("exclusion")
    return (ex["stage"], ex["reason"], json.loads(ex["evidence"] or "null")) if ex else None


class Exploding(DocumentStep):
    name = "Exploding"
    stage = "explode"

    def process(self, doc):
        if "boom" in doc.text:
            raise ValueError("Invalid IPv6 URL")
        doc.metadata["seen"] = True


class BatchExploding(DocumentStep):
    """Like CascadeLid: a batch path that calls itself one document at a time from `process`."""

    name = "BatchExploding"

    def process(self, doc):
        self.process_batch([doc])

    def process_batch(self, docs):
        for doc in docs:
            if "boom" in doc.text:
                raise RecursionError("maximum recursion depth exceeded")
            if "drop" in doc.text:
                exclude(doc, "batch", "dropped")
            doc.metadata["seen"] = True
        return docs


def _docs(*texts):
    return [Document(text=t, id=f"d{i}", metadata={}) for i, t in enumerate(texts)]


def test_an_exception_in_process_is_a_ledger_row_and_the_stream_goes_on():
    out = list(Exploding().run(iter(_docs("fine", "boom here", "fine again"))))
    assert [d.metadata.get("seen") for d in out] == [True, None, True]
    stage, reason, evidence = row(out[1])
    assert (stage, reason) == ("explode", "processing_error")
    assert evidence == {"step": "Exploding", "error": "ValueError: Invalid IPv6 URL"}
    assert "boom" not in json.dumps(evidence)  # the type and message, never the text


def test_a_batch_that_raises_is_retried_one_document_at_a_time():
    docs = _docs("a", "boom", "drop", "b")
    BatchExploding().process_batch(docs)
    assert [d.metadata.get("seen") for d in docs] == [True, None, True, True]
    assert row(docs[1])[:2] == ("BatchExploding", "too_complex")  # RecursionError: too deep, not a bug
    assert row(docs[2])[:2] == ("batch", "dropped")  # a decision made in the retry, once
    assert not is_excluded(docs[0]) and not is_excluded(docs[3])


def test_configuration_and_io_errors_still_fail_the_task():
    class Broken(DocumentStep):
        name = "Broken"

        def process(self, doc):
            raise ConfigError("model file is the wrong version: refit it")

    class Disk(DocumentStep):
        name = "Disk"

        def process(self, doc):
            raise OSError(28, "No space left on device")

    for step in (Broken(), Disk()):
        with pytest.raises((ConfigError, OSError)):
            list(step.run(iter(_docs("x"))))


def test_cpu_budget_turns_a_runaway_document_into_too_complex(monkeypatch):
    import corpus_tools.core.document as document

    monkeypatch.setattr(document, "CPU_BUDGET_S", 0.2)

    class Spin(DocumentStep):
        name = "Spin"

        def process(self, doc):
            while True:
                pass

    started = time.process_time()
    out = list(Spin().run(iter(_docs("x"))))
    assert time.process_time() - started < 5
    assert row(out[0])[1] == "too_complex" and "BudgetExceeded" in row(out[0])[2]["error"]


def test_bracketed_host_and_odd_links_do_not_fail_signals():
    docs = hostile_docs()
    step = HtmlSignals()
    for case in ("bracketed-host", "odd-links", "odd-meta", "odd-headers", "broken-json-ld", "bad-entities"):
        step.process(docs[case])
        assert not is_excluded(docs[case]), (case, row(docs[case]))
        assert "_signals" in docs[case].metadata


def test_pathological_pages_are_too_complex_in_milliseconds():
    docs = hostile_docs()
    step = HtmlSignals()
    for case, measure in (("deep-divs", "html_depth"), ("deep-json-ld", "json_ld_depth")):
        started = time.perf_counter()
        step.process(docs[case])
        assert time.perf_counter() - started < 1.0
        stage, reason, evidence = row(docs[case])
        assert (stage, reason, evidence["measure"]) == ("signals", "too_complex", measure)
        assert evidence["measured_at_least"] > evidence["limit"]


def test_real_pages_are_far_below_the_depth_limits():
    from corpus_tools.stages.signals import html_depth, json_ld_depth

    page = hostile_docs()["right"].text
    assert html_depth(page, 10) > 10  # the estimate does count depth on a real page ...
    assert html_depth(page, 5000) <= 5000 and json_ld_depth(page, 256) <= 256  # ... which passes
    deep = "<div>" * 6000
    assert html_depth(deep, 5000) > 5000 and html_depth("<br>" * 6000, 5000) == 0


def test_huge_attribute_page_still_extracts():
    docs = hostile_docs()
    doc = docs["huge-attribute"]
    HtmlSignals().process(doc)
    TrafilaturaExtractor().process(doc)
    assert not is_excluded(doc) and "DMEXCO" in doc.text
