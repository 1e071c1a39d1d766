"""robots.txt / tdmrep.json captures from WARCs (tests/data/rights/robots.warc.gz) and their dated verdicts."""

from __future__ import annotations

import io

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from corpus_tools.rights.policy import load_policy
from corpus_tools.rights.robots import PolicyIndex, extension_rules, host_key
from tests.conftest import TEST_DATA

ROBOTS = TEST_DATA / "rights" / "robots.warc.gz"
FETCH = "2024-06-01T12:00:00Z"


@pytest.fixture(scope="module")
def index():
    return PolicyIndex.build([str(ROBOTS)], load_policy().agents)


def test_host_key():
    assert host_key("https://WWW.Example.com:443/a") == "www.example.com"
    assert host_key("http://example.com:8080/") == "example.com:8080"
    assert host_key(None) is None


def test_ai_agents_blocked_by_news_site(index):
    v = index.robots_verdict("https://news.example.com/2024/06/council", FETCH)
    assert v["http_class"] == "2xx"
    assert set(v["ai_disallow"]) == {"GPTBot", "CCBot", "Google-Extended", "ClaudeBot", "anthropic-ai"}
    assert v["star_disallow"] is False
    assert v["capture"]["date"] == "2024-05-01T10:00:00Z" and v["capture"]["sha256"]
    # `*` group: /search is disallowed for everyone without a group of its own
    v = index.robots_verdict("https://news.example.com/search?q=x", FETCH)
    assert v["star_disallow"] is True and "AI2Bot" in v["ai_disallow"]


def test_status_classes(index):
    assert index.robots_verdict("https://gone.example.com/page", FETCH)["http_class"] == "4xx_allow_all"
    assert index.robots_verdict("https://gone.example.com/page", FETCH)["star_disallow"] is False
    v = index.robots_verdict("https://down.example.com/page", FETCH)
    assert v["http_class"] == "5xx_disallow_all" and v["star_disallow"] and "GPTBot" in v["ai_disallow"]
    assert index.robots_verdict("https://unknown.example.com/", FETCH)["http_class"] == "missing"


def test_redirect_is_followed(index):
    v = index.robots_verdict("http://redirect.example.com/private/page", FETCH)
    assert v["http_class"] == "3xx_followed" and v["star_disallow"] is True
    assert v["redirects"][-1] == "https://www.redirect.example.com/robots.txt"
    assert index.robots_verdict("http://redirect.example.com/public/", FETCH)["star_disallow"] is False


def test_dated_verdicts(index):
    at_fetch = index.robots_verdict("https://dated.example.com/article", FETCH, "at_fetch")
    latest = index.robots_verdict("https://dated.example.com/article", FETCH, "latest")
    assert at_fetch["ai_disallow"] == [] and at_fetch["capture"]["date"].startswith("2023")
    assert latest["ai_disallow"] == ["GPTBot"] and latest["capture"]["date"].startswith("2025")
    # fetched before any capture: the first capture, flagged
    early = index.robots_verdict("https://dated.example.com/article", "2020-01-01T00:00:00Z")
    assert early["after_fetch"] is True and early["capture"]["date"].startswith("2023")


def test_content_signal_and_aipref_rules(index):
    assert index.robots_verdict("https://cf.example.net/blog/post", FETCH)["content_signal_ai_train"] == "no"
    assert index.robots_verdict("https://aipref.example.org/closed/x", FETCH)["content_usage_train_ai"] == "n"
    assert index.robots_verdict("https://aipref.example.org/open/x", FETCH)["content_usage_train_ai"] == "y"


def test_extension_rules_agent_groups():
    text = "User-agent: GPTBot\nContent-Signal: ai-train=no\n\nUser-agent: *\nContent-Signal: ai-train=yes\n"
    assert extension_rules(text, "https://x.example/", ["GPTBot"]) == ("no", "unknown")
    assert extension_rules(text, "https://x.example/", ["CCBot"]) == ("yes", "unknown")
    assert extension_rules("Content-Usage: /a/ train-ai=n\n", "https://x.example/b", []) == ("unknown", "unknown")


def test_agent_groups_match_product_tokens_exactly_enough():
    from protego import Protego

    rp = Protego.parse("User-agent: Googlebot\nDisallow: /\n")
    assert rp.can_fetch("https://x.example/", "Google-Extended")   # a search bot's group is not an AI opt-out


def test_tdmrep_rules(index):
    rules, cap = index.tdmrep_rules("https://publisher.example.fr/books/1", FETCH)
    assert rules[0]["location"] == "/open/*" and cap["status"] == 200
    assert index.tdmrep_rules("https://news.example.com/", FETCH) == (None, None)


def test_invalid_tdmrep_json_is_recorded_and_ignored(tmp_path):
    path = tmp_path / "t.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        body = b'{"location": "/", "tdm-reservation": 1}'     # not an array: the spec makes brackets mandatory
        http = StatusAndHeaders("200 OK", [("Content-Type", "application/json")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://t.example/.well-known/tdmrep.json", "response",
                                            payload=io.BytesIO(body), http_headers=http))
    idx = PolicyIndex.build([str(path)], ["GPTBot"])
    rules, cap = idx.tdmrep_rules("https://t.example/a")
    assert rules is None and cap["error"] == "not_an_array"
