"""TDMRep, noai / X-Robots-Tag and AIPREF Content-Usage parsing (specs/licensing.md §2.1, §2.3, §2.5)."""

from __future__ import annotations

from corpus_tools.rights.optout import (content_usage, norm01, rep_path_match, robots_tokens, tdmrep_state,
                                        tdmrep_wellknown)

RULES = [{"location": "/open/*", "tdm-reservation": 0},
         {"location": "/", "tdm-reservation": 1, "tdm-policy": "https://p.example/policy.json"}]


def test_norm01_rejects_the_withdrawn_value_2():
    assert [norm01(v) for v in ("1", " 0 ", 1, 0, "2", 2, "yes", True, None)] == [1, 0, 1, 0, None, None, None, None, None]


def test_rep_path_matching():
    assert rep_path_match("/", "/anything")
    assert rep_path_match("/open/*", "/open/a/b")
    assert rep_path_match("/*.pdf$", "/docs/x.pdf") and not rep_path_match("/*.pdf$", "/docs/x.pdf?x=1")
    assert not rep_path_match("/Open/", "/open/")          # case-sensitive
    assert rep_path_match("/caf%C3%A9/", "/café/x")          # percent-decoded before comparing


def test_wellknown_first_matching_rule_wins():
    assert tdmrep_wellknown(RULES, "https://p.example/open/report")["reservation"] == 0
    assert tdmrep_wellknown(RULES, "https://p.example/books/1")["reservation"] == 1
    assert tdmrep_wellknown([{"location": "/x/", "tdm-reservation": 1}], "https://p.example/y") is None
    assert tdmrep_wellknown({"location": "/"}, "https://p.example/") is None   # not an array: ignored


def test_cascade_last_present_wins_and_absence_does_not_reset():
    wk = tdmrep_wellknown(RULES, "https://p.example/books/1")
    assert tdmrep_state(wk, None, None, None, None)["source"] == "wellknown"
    s = tdmrep_state(wk, "0", None, None, None)
    assert (s["reservation"], s["source"]) == (0, "http_header")
    s = tdmrep_state(None, "0", None, "1", "https://p.example/m.json")
    assert (s["reservation"], s["source"], s["policy"]) == (1, "html_meta", "https://p.example/m.json")
    s = tdmrep_state(wk, None, None, None, None)
    assert s["reservation"] == 1 and s["policy"] == "https://p.example/policy.json"


def test_invalid_value_is_unset_not_reserved():
    s = tdmrep_state(None, "2", None, None, None)
    assert s["reservation"] is None and s["protocol_errors"] == ["http_header"]
    # an invalid meta does not override a valid header
    s = tdmrep_state(None, "1", None, "2", None)
    assert (s["reservation"], s["source"], s["protocol_errors"]) == (1, "http_header", ["html_meta"])


def test_robots_tokens_and_agent_prefixes():
    agents = {"gptbot", "ccbot"}
    assert robots_tokens("noai, noimageai", agents)["applies"] == {"noai", "noimageai"}
    assert robots_tokens("googlebot: noai", agents)["applies"] == set()          # another agent's rule
    assert robots_tokens("GPTBot: noai", agents)["applies"] == {"noai"}
    assert robots_tokens("max-image-preview:large, NOAI", agents)["applies"] == {"max-image-preview:large", "noai"}
    assert "noai" not in robots_tokens("noindex, nofollow", agents)["applies"]


def test_content_usage():
    assert content_usage("train-ai=n, search=y")["train_ai"] == "n"
    assert content_usage("train-ai=y")["train_ai"] == "y"
    assert content_usage("train-ai=y, train-ai=n")["train_ai"] == "n"          # any n wins
    assert content_usage("train-ai=N")["train_ai"] == "unknown"                # tokens are case-sensitive
    assert content_usage("search=n")["train_ai"] == "unknown"
    assert content_usage(None) == {"train_ai": "unknown", "raw": None}
