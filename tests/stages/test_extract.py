"""The extractors on real pages: the cascade (resiliparse, trafilatura where unsure) keeps an article's text
and drops its chrome; both extractors share one contract (columns, `empty_text`, `extract_error`); the recipe
selects them by name."""

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from datatrove.data import Document

from corpus_tools.core.document import EXCLUSION_KEY, is_excluded
from corpus_tools.core.errors import ConfigError
from corpus_tools.core.recipe import RunOptions, load_recipe
from corpus_tools.readers.warc import WarcRecordReader
from corpus_tools.stages.extract import CascadeExtractor, TrafilaturaExtractor, count_lines, html_title

from tests.conftest import SHARED

DATA = Path(__file__).parents[1] / "data"
# five real article pages of the scrapinghub benchmark (tests/data/rights/SOURCES.md)
ARTICLES = DATA / "rights" / "notice-pages.warc.gz"
TRUTH = SHARED / "extraction" / "scrapinghub" / "ground-truth.json"


def pages(path: Path = ARTICLES) -> list[Document]:
    return [d for d in WarcRecordReader([str(path)]).run() if not is_excluded(d)]


def extract(step, doc: Document) -> Document:
    step.process(doc)
    return doc


def shingle_scores(truth: str, text: str) -> tuple[float, float]:
    """Precision and recall of word 4-gram shingles, the benchmark's own measure."""
    def shingles(s):
        toks = re.findall(r"\w+", s)
        return Counter(tuple(toks[i:i + 4]) for i in range(len(toks) - 3))
    t, p = shingles(truth), shingles(text)
    tp = sum((t & p).values())
    return tp / max(1, sum(p.values())), tp / max(1, sum(t.values()))


@pytest.mark.skipif(not TRUTH.exists(), reason="needs ../shared/data/extraction/scrapinghub")
def test_the_cascade_gets_the_article_text_of_real_pages():
    truth = {v["url"]: v["articleBody"] for v in json.loads(TRUTH.read_text()).values()}
    step = CascadeExtractor()
    docs = [extract(step, d) for d in pages()]
    assert len(docs) == 5 and not any(is_excluded(d) for d in docs)
    scores = {d.metadata["url"]: shingle_scores(truth[d.metadata["url"]], d.text) for d in docs}
    assert all(p >= 0.9 for p, r in scores.values()), scores  # little boilerplate on any page
    # most of every article, and nearly all of them together: resiliparse misses one block of one page
    # (mspoweruser, recall 0.80), which trafilatura would have kept
    assert all(r >= 0.75 for p, r in scores.values()) and sum(r for p, r in scores.values()) / 5 >= 0.95, scores


def test_the_cascade_drops_the_page_chrome_resiliparse_would_keep():
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    page = next(d for d in pages() if "sciencealert" in d.metadata["url"])
    plain = extract_plain_text(HTMLTree.parse(page.text), main_content=True)
    doc = extract(CascadeExtractor(), page)
    headline = "NASA Just Confirmed There Are Water Plumes Above The Surface of Jupiter's Moon Europa"
    assert headline in plain and "main article image" in plain  # resiliparse's own main-content mode keeps both
    assert headline not in doc.text and "main article image" not in doc.text  # the h1 and an alt text
    assert "\nA team led by researchers out of NASA's Goddard Space Flight Center" in doc.text
    assert "Europa" in doc.metadata["title"] and doc.metadata["title"] == html_title(doc.metadata["_html"])


def test_long_or_empty_fast_output_is_left_to_trafilatura():
    docs = pages()
    long_one = max(docs, key=lambda d: count_lines(CascadeExtractor().fast_text(d.text)))
    n_lines = count_lines(CascadeExtractor().fast_text(long_one.text))
    reference = extract(TrafilaturaExtractor(), Document(text=long_one.text, id="t", metadata=dict(long_one.metadata)))

    at_threshold = CascadeExtractor(trafilatura_from_lines=n_lines)
    assert extract(at_threshold, Document(text=long_one.text, id="a", metadata=dict(long_one.metadata))).text == reference.text
    assert at_threshold.stats["extracted_by_trafilatura"].total == 1

    above = CascadeExtractor(trafilatura_from_lines=n_lines + 1)
    fast = extract(above, Document(text=long_one.text, id="b", metadata=dict(long_one.metadata)))
    assert above.stats["extracted_by_resiliparse"].total == 1 and fast.text != reference.text

    nothing_left = CascadeExtractor(skip="body")  # resiliparse's output is empty: trafilatura extracts the page
    assert extract(nothing_left, Document(text=long_one.text, id="c", metadata=dict(long_one.metadata))).text == reference.text


@pytest.mark.parametrize("step", [TrafilaturaExtractor, CascadeExtractor])
def test_both_extractors_set_the_same_columns(step):
    doc = pages()[0]
    html = doc.text
    extract(step(), doc)
    assert not is_excluded(doc)
    meta = doc.metadata
    assert meta["n_chars"] == len(doc.text) and meta["n_words"] == len(doc.text.split()) > 300
    assert meta["text_sha256"] == hashlib.sha256(doc.text.encode()).hexdigest() and meta["_html"] == html
    assert meta["title"]


@pytest.mark.parametrize("step", [TrafilaturaExtractor, CascadeExtractor])
def test_a_page_without_main_text_is_excluded_as_empty_text(step):
    html = "<html><head><title>t</title></head><body><script>var x = 1;</script></body></html>"
    doc = extract(step(), Document(text=html, id="e", metadata={"url": "https://a.invalid/"}))
    assert doc.metadata[EXCLUSION_KEY]["reason"] == "empty_text"
    assert json.loads(doc.metadata[EXCLUSION_KEY]["evidence"]) == {"html_chars": len(html)}


def test_an_extractor_that_raises_on_a_page_excludes_it_as_extract_error():
    class Failing(CascadeExtractor):
        def main_text(self, html, url):
            raise ValueError("a page no parser can read")

    doc = extract(Failing(), pages()[0])
    assert doc.metadata[EXCLUSION_KEY]["reason"] == "extract_error" and doc.text == ""
    assert json.loads(doc.metadata[EXCLUSION_KEY]["evidence"]) == {"error": "ValueError"}


def test_a_bad_skip_selector_fails_before_any_page():
    with pytest.raises(ConfigError, match="not a CSS selector list"):
        CascadeExtractor(skip="div[[")


def test_the_recipe_selects_the_extractor_by_name(tmp_path):
    def extractor(params):
        opts = RunOptions(inputs=[], output=str(tmp_path), params=params, run_id="x")
        return type(load_recipe("eu_web").build(opts)[0].pipeline[2]).__name__

    assert extractor({}) == "TrafilaturaExtractor"
    assert extractor({"extractor": "cascade"}) == "CascadeExtractor"
    with pytest.raises(ConfigError, match="give extractor=cascade or extractor=trafilatura"):
        extractor({"extractor": "readability"})
