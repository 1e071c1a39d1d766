"""HtmlSignals: signals from crafted headers and pages, and the near-misses of issue 6."""

from __future__ import annotations

from datatrove.data import Document

from corpus_tools.stages.signals import SIGNALS_KEY, HtmlSignals, html_signals

AGENTS = {"gptbot", "ccbot"}


def sig(html: str = "<p>x</p>", **headers) -> dict:
    return html_signals(html, {k.replace("_", "-"): v for k, v in headers.items()}, "https://a.example/p", AGENTS)


def test_tdmrep_header_and_meta_raw_values():
    s = sig('<meta name="TDM-Reservation" content="1"><meta name="tdm-policy" content="https://a.example/p.json">',
            tdm_reservation="0", tdm_policy="https://a.example/h.json")
    assert s["tdmrep"] == {"header_reservation": "0", "header_policy": "https://a.example/h.json",
                           "meta_reservation": "1", "meta_policy": "https://a.example/p.json"}


def test_obsolete_tdm_a_header_is_recorded_as_nonstandard():
    assert sig(tdm_a="1")["tdmrep"] == {"nonstandard": ["tdm-a"]}


def test_noai_from_meta_and_header():
    s = sig('<meta name="robots" content="noai, noimageai">')
    assert s["noai"] == {"x_robots": False, "meta": True} and s["noimageai"]["meta"]
    s = sig(x_robots_tag="noai")
    assert s["noai"] == {"x_robots": True, "meta": False}
    assert sig('<meta name="GPTBot" content="noai">')["noai"]["meta"]       # meta named after an AI agent


def test_near_miss_noindex_is_recorded_not_noai():
    s = sig('<meta name="robots" content="noindex, nofollow">', x_robots_tag="googlebot: noai")
    assert s["noindex"] is True
    assert s["noai"] == {"x_robots": False, "meta": False}


def test_content_usage_header():
    assert sig(content_usage="train-ai=n")["content_usage"]["train_ai"] == "n"


def test_near_miss_cc_licence_on_image_caption():
    s = sig('<article><p>text</p><figure><img src="a.jpg"><figcaption>'
            '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY</a></figcaption></figure></article>')
    assert [c["scope"] for c in s["licences"]] == ["media"]


def test_step_annotates_documents_and_skips_excluded():
    from corpus_tools.core.document import exclude

    step = HtmlSignals()
    a = Document(text='<footer><a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC</a></footer>',
                 id="a", metadata={"url": "https://a.example/", "_http_headers": {"tdm-reservation": "1"}})
    b = Document(text="", id="b", metadata={"url": None})
    exclude(b, "read", "non_html")
    out = list(step.run([a, b]))
    assert out[0].metadata[SIGNALS_KEY]["licences"][0]["spdx"] == "CC-BY-4.0"
    assert out[0].metadata[SIGNALS_KEY]["tdmrep"]["header_reservation"] == "1"
    assert SIGNALS_KEY not in out[1].metadata
