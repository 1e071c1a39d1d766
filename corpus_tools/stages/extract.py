"""`TrafilaturaExtractor`: decoded HTML in `doc.text` -> main text and title (trafilatura).

Sets `text`, `title`, `text_sha256`, `n_chars`, `n_words`; the HTML moves to `_html` (never written).
A page with no main text is excluded with reason `empty_text`.

Speed without losing quality (measured by benchmarks/extraction_quality.py on the scrapinghub benchmark):
trafilatura's `fast` mode (no readability/justext fallback) and no comments score a higher shingle F1 than
its default settings, and skipping its metadata extraction (title from `<title>` instead; the date is the
WARC date) halves the cost per page.
"""

from __future__ import annotations

import copy
import hashlib
import html as html_lib
import re

import trafilatura
from trafilatura.settings import Extractor
from datatrove.data import Document

from corpus_tools.core.document import DocumentStep, exclude

STAGE = "extract"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count_words(text: str) -> int:
    """Whitespace words: a cheap, language-independent size measure (quality rules use real tokenizers)."""
    return len(text.split())


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def html_title(html: str) -> str | None:
    m = _TITLE.search(html[:65536])
    title = " ".join(html_lib.unescape(m.group(1)).split()) if m else ""
    return title or None


class TrafilaturaExtractor(DocumentStep):
    """fast: skip trafilatura's fallback extractors, default True (higher F1 and faster on scrapinghub);
    favour_precision: trafilatura's precision mode, default False;
    include_tables: keep table text, default True (trafilatura's default)."""

    name = "TrafilaturaExtractor"

    def __init__(self, fast: bool = True, favour_precision: bool = False, include_tables: bool = True):
        super().__init__()
        self.fast = fast
        self.favour_precision = favour_precision
        self.include_tables = include_tables
        self._options = None

    def options(self, url: str | None) -> Extractor:
        """trafilatura's options for one page: built once per step (reading its config costs ~1 ms a page),
        with the page's URL set as trafilatura's own constructor sets it."""
        if self._options is None:
            self._options = Extractor(output_format="python", fast=self.fast, with_metadata=False, comments=False,
                                      precision=self.favour_precision, tables=self.include_tables)
        options = copy.copy(self._options)
        options.url = url
        options.source = url and url.encode("utf-8", "replace").decode("utf-8")
        return options

    def process(self, doc: Document) -> None:
        html = doc.text
        try:
            result = trafilatura.bare_extraction(html, options=self.options(doc.metadata.get("url")))
        except Exception as e:  # lxml and trafilatura raise on some pathological pages
            doc.text = ""
            exclude(doc, STAGE, "extract_error", rule="extract_error_v1", evidence={"error": type(e).__name__})
            return
        doc.metadata["_html"] = html
        text = (result.text or "").strip() if result is not None else ""
        doc.text = text
        if not text:
            exclude(doc, STAGE, "empty_text", rule="empty_text_v1", evidence={"html_chars": len(html)})
            return
        set_text(doc, text)
        doc.metadata["title"] = html_title(html)


def set_text(doc: Document, text: str) -> None:
    """The one place that changes `doc.text`: keeps the derived content columns in step."""
    doc.text = text
    doc.metadata["text_sha256"] = text_sha256(text)
    doc.metadata["n_chars"] = len(text)
    doc.metadata["n_words"] = count_words(text)
