"""Fuzzing every per-document step of the default pipeline with generated hostile HTML (hypothesis, bounded).

Each example is a small page built from hostile parts (odd URLs, bracketed hosts, ports out of range,
`javascript:` / `data:` links, huge attributes, deep nesting, bad entities and surrogates, NUL bytes, broken
JSON-LD, odd meta tags) with odd HTTP headers, run through the per-document steps of `pipelines/eu_web.py`
(HtmlSignals ... PiiMasker) as the executor runs them. Properties: no step raises; one document comes out per
document in (conservation); it is kept with text, or excluded with a stage and a reason; the ledger evidence
never holds the page's text; the steps the reader hands HTML to (signals, extract) never need the
fault-isolation backstop (`processing_error`). 60 examples, a few seconds.
"""

from __future__ import annotations


import pytest
from datatrove.data import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.core.document import DocumentStep, is_excluded
from corpus_tools.core.recipe import RunOptions
from corpus_tools.core.recipe import load_recipe

MARK = "Zqxjv"  # a word in every page body: it must never reach the ledger evidence

URLS = st.sampled_from([
    "http://[ccpa-preferences]", "https://[::1", "http://[::1]:99999/", "http://example.com:99999/x",
    "https://:0", "//[", "javascript:void(0)", "javascript:alert(1)", "data:text/html;base64,PGgxPg==",
    "http://a b.com/%zz", "mailto:", "http://\u00e9x\u00e4mple.com/\ud800", "https://creativecommons.org/licenses/by/4.0/",
    "http://creativecommons.org/licenses/by-nc-sa/3.0/de/", "../../../", "#", "", " ", "http://%", "http://xn--/",
    "https://user:pass@host:-1/", "file:///etc/passwd", "http://" + "a" * 3000 + ".com/"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["\x00", "&#xD800;", "&#0;", "&#x110000;", "&#99999999999;", "&bogus;", "&amp", "\ufffd", "\u202e", "]]>", "<!--"])


@st.composite
def part(draw) -> str:
    kind = draw(st.sampled_from(["a", "link", "meta", "jsonld", "deep", "attr", "text", "microdata", "broken"]))
    url, text = draw(URLS), draw(TEXT)
    if kind == "a":
        rel = draw(st.sampled_from(["", ' rel="license"', ' rel="nofollow license"']))
        return f'<a href="{url}"{rel}>{text}</a>'
    if kind == "link":
        return f'<link rel="{draw(st.sampled_from(["license", "copyright", "canonical", ""]))}" href="{url}">'
    if kind == "meta":
        name = draw(st.sampled_from(["robots", "license", "dc.rights", "tdm-reservation", "tdm-policy", "GPTBot",
                                     "og:license", "charset", "", "\x00"]))
        content = draw(st.sampled_from(["noai", "noai, noimageai", "1", "none", url, text, ""]))
        return f'<meta name="{name}" content="{content}"><meta property="{name}" content="{content}">'
    if kind == "jsonld":
        body = draw(st.sampled_from(['{"license": "' + url + '"}', '{"license": ', '[' * 300 + ']' * 300,
                                     '{"@graph": [null, {"license": [{"@id": null}, 7]}]}', '{"a": ' * 50 + "1" + "}" * 50,
                                     text]))
        return f'<script type="application/ld+json">{body}</script>'
    if kind == "deep":
        n = draw(st.sampled_from([10, 600, 6000]))
        tag = draw(st.sampled_from(["div", "span", "table", "font", "b"]))
        return f"<{tag}>" * n + text + f"</{tag}>" * draw(st.sampled_from([0, n]))
    if kind == "attr":
        return f'<div data-x="{"y" * draw(st.sampled_from([10, 100_000]))}" title="{text}">ad</div>'
    if kind == "microdata":
        return f'<div itemscope itemtype="http://schema.org/ImageObject"><a itemprop="license" href="{url}">x</a></div>'
    return draw(st.sampled_from(["<", "<a", "</div></div></body>", "<![CDATA[", "<script>", "<?xml ?>", "<html lang='\x00'>"]))


HEADERS = st.fixed_dictionaries({}, optional={
    "x-robots-tag": st.sampled_from(["noai", "noai, , googlebot:", ":::", "GPTBot: noai, noimageai", "\x00"]),
    "content-usage": st.sampled_from(["train-ai=n", "train-ai=??; ;=", "", "=y"]),
    "tdm-reservation": st.sampled_from(["1", "0", "maybe", ""]),
    "tdm-policy": URLS,
    "link": URLS.map(lambda u: f'<{u}>; rel="license"'),
    "content-type": st.sampled_from(["text/html; charset=utf-16", 'text/html; charset="utf-8"', "text/html;;", "x"]),
})

PROSE = ("Die Wetterlage in den Alpen ändert sich im Frühling schnell, und wer wandern geht, sollte die Vorhersage "
         "am Morgen prüfen. ") * 8


@st.composite
def page(draw) -> tuple[str, dict, str]:
    parts = draw(st.lists(part(), min_size=1, max_size=6))
    where = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    head = "".join(p for p, h in zip(parts, where) if h)
    body = "".join(p for p, h in zip(parts, where) if not h)
    html = f"<html><head><title>{MARK} t</title>{head}</head><body><article><p>{MARK} {PROSE}</p>{body}</article></body></html>"
    return html, draw(HEADERS), draw(URLS)


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz")
    opts = RunOptions(inputs=[], output=str(out), params={"dedup": "false"}, run_id="fuzz")
    phases = load_recipe("eu_web").build(opts)
    found = [s for s in phases[0].pipeline if isinstance(s, DocumentStep)]
    assert [type(s).__name__ for s in found][:2] == ["HtmlSignals", "TrafilaturaExtractor"] and len(found) >= 6
    return found


def run_steps(steps, docs):
    data = iter(docs)
    for step in steps:
        data = step.run(data)
    return list(data)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(pages=st.lists(page(), min_size=1, max_size=3))
def test_hostile_pages_never_raise_and_are_kept_or_excluded_with_a_reason(steps, pages):
    docs = [Document(text=html, id=f"fuzz{i}", metadata={"url": url, "domain": None, "_http_headers": headers,
                                                          "warc_date": "2024-05-01T12:00:00Z", "html_lang": None})
            for i, (html, headers, url) in enumerate(pages)]
    out = run_steps(steps, docs)
    assert [d.id for d in out] == [d.id for d in docs]  # one out per one in, in order
    for doc in out:
        if is_excluded(doc):
            ex = doc.metadata["exclusion"]
            assert ex["stage"] and ex["reason"]
            assert MARK not in (ex["evidence"] or "") and "Wetterlage" not in (ex["evidence"] or "")
            assert not (ex["reason"] == "processing_error" and ex["stage"] in ("signals", "extract")), ex
        else:
            assert doc.text and MARK in doc.text or "Wetterlage" in doc.text
