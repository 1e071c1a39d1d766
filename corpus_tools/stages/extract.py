"""Extractors: decoded HTML in `doc.text` -> main text and title. `TrafilaturaExtractor` (trafilatura) and
`CascadeExtractor` (resiliparse first, trafilatura where resiliparse's output looks unreliable).

Both set `text`, `title`, `text_sha256`, `n_chars`, `n_words`; the HTML moves to `_html` (never written).
A page with no main text is excluded with reason `empty_text`; a page the extractor raises on, with reason
`extract_error` (the exception's type as evidence).

Speed without losing quality (measured by benchmarks/extraction_quality.py on the scrapinghub benchmark):
trafilatura's `fast` mode (no readability/justext fallback) and no comments score a higher shingle F1 than
its default settings, and skipping its metadata extraction (title from `<title>` instead; the date is the
WARC date) halves the cost per page. The cascade's settings were chosen by that benchmark on half of its pages and
judged on the other half (its RESULTS section).
"""

from __future__ import annotations

import copy
import hashlib
import html as html_lib
import re

import trafilatura
from datatrove.data import Document
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree
from trafilatura.settings import Extractor

from corpus_tools.core.document import DocumentStep, exclude
from corpus_tools.core.errors import ConfigError

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


class _MainTextExtractor(DocumentStep):
    """The extractors' shared contract: a subclass implements `main_text(html, url)`; this class moves the
    HTML to `_html`, sets the content columns and the title, and writes the two exclusions."""

    def main_text(self, html: str, url: str | None) -> str:
        raise NotImplementedError

    def process(self, doc: Document) -> None:
        html = doc.text
        try:
            text = (self.main_text(html, doc.metadata.get("url")) or "").strip()
        except Exception as e:  # lxml, trafilatura and resiliparse raise on some pathological pages
            doc.text = ""
            exclude(doc, STAGE, "extract_error", rule="extract_error_v1", evidence={"error": type(e).__name__})
            return
        doc.metadata["_html"] = html
        doc.text = text
        if not text:
            exclude(doc, STAGE, "empty_text", rule="empty_text_v1", evidence={"html_chars": len(html)})
            return
        set_text(doc, text)
        doc.metadata["title"] = html_title(html)


class TrafilaturaExtractor(_MainTextExtractor):
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

    def main_text(self, html: str, url: str | None) -> str:
        result = trafilatura.bare_extraction(html, options=self.options(url))
        return result.text if result is not None else ""


def count_lines(text: str) -> int:
    """Non-blank lines: the cascade's sign that a fast extract runs on into teasers, link lists and comments."""
    return sum(1 for line in text.split("\n") if line.strip())


# resiliparse's main-content mode with the options and skip selectors that benchmarks/extraction_quality.py
# chose on the choice half of the scrapinghub pages (page headers, h1 titles: the title is its own column,
# image captions, cookie-consent banners); comments, alt texts and post meta data are not main text
RESILIPARSE_OPTIONS = {"alt_texts": False, "comments": False, "post_meta": False}
RESILIPARSE_SKIP = "header, [class*=caption], h1, [class*=consent]"


class CascadeExtractor(_MainTextExtractor):
    """resiliparse's main-content extraction (~1 ms a page) first; trafilatura (`TrafilaturaExtractor`'s
    defaults, ~13 ms a page) where resiliparse's output is empty or has at least `trafilatura_from_lines`
    lines, where it most often still holds boilerplate.

    trafilatura_from_lines: non-blank lines of resiliparse's output from which trafilatura extracts the page
    instead, default 37 (chosen by benchmarks/extraction_quality.py on the choice half of the scrapinghub
    pages: the best F1 with at most 30 % of the pages sent to trafilatura);
    skip: CSS selectors of elements resiliparse leaves out, default RESILIPARSE_SKIP (same provenance).

    Not eu_web's default (`--param extractor=cascade` selects it): about half of TrafilaturaExtractor's CPU, but
    on the held-out half of the scrapinghub pages F1 0.955 against its 0.967 (RESULTS.md, "Extraction quality"),
    and the boilerplate resiliparse keeps (repeated lines, link lists) moves quality decisions: over the 406 pages
    of benchmarks/e2e.py's crawl (2026-12-02), 31 pages were kept by one extractor's run and not the other's,
    news articles dropped for `char_dup_ratio` among them."""

    name = "CascadeExtractor"

    def __init__(self, trafilatura_from_lines: int = 37, skip: str = RESILIPARSE_SKIP):
        super().__init__()
        self.trafilatura_from_lines = trafilatura_from_lines
        self.skip = skip
        self._trafilatura = TrafilaturaExtractor()
        try:
            self.fast_text("<p>x</p>")
        except Exception as e:  # resiliparse's CSSParserException: a bad selector would fail every page
            raise ConfigError(f"CascadeExtractor skip={skip!r} is not a CSS selector list ({e}): give selectors "
                              f"separated by commas, e.g. {RESILIPARSE_SKIP!r}") from None

    def fast_text(self, html: str) -> str:
        """resiliparse's main text. Its main-content pass is quadratic in nesting depth (0.7 s at 8,000 levels);
        in the pipeline HtmlSignals has already refused pages nested deeper than 5,000 (`too_complex`)."""
        skip = [self.skip] if self.skip else None
        return extract_plain_text(HTMLTree.parse(html), main_content=True, skip_elements=skip, **RESILIPARSE_OPTIONS).strip()

    def main_text(self, html: str, url: str | None) -> str:
        text = self.fast_text(html)
        if text and count_lines(text) < self.trafilatura_from_lines:
            self.stat_update("extracted_by_resiliparse")
            return text
        self.stat_update("extracted_by_trafilatura")
        return self._trafilatura.main_text(html, url)


EXTRACTORS = {"cascade": CascadeExtractor, "trafilatura": TrafilaturaExtractor}


def make_extractor(name: str) -> _MainTextExtractor:
    """The extractor a recipe names (`--param extractor=NAME`), with its defaults."""
    if name not in EXTRACTORS:
        raise ConfigError(f"--param extractor={name!r} is not an extractor: give extractor="
                          + " or extractor=".join(EXTRACTORS))
    return EXTRACTORS[name]()


def set_text(doc: Document, text: str) -> None:
    """The one place that changes `doc.text`: keeps the derived content columns in step."""
    doc.text = text
    doc.metadata["text_sha256"] = text_sha256(text)
    doc.metadata["n_chars"] = len(text)
    doc.metadata["n_words"] = count_words(text)
