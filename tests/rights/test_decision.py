"""The decision: signals + captures + policy -> columns; licence disagreement, opt-out precedence, drop."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from corpus_tools.rights.decision import decide
from corpus_tools.rights.policy import DEFAULT_POLICY, STRICT_POLICY, load_policy

CC_BY_FOOTER = {"spdx": "CC-BY-4.0", "family": "by", "location": "a_tag", "confidence": "high", "scope": "page",
                "in_footer": True, "rel_license": True}
CC_BY_NC_BODY = {"spdx": "CC-BY-NC-4.0", "family": "by-nc", "location": "a_tag", "confidence": "medium", "scope": "page"}
CC_ND_MEDIA = {"spdx": "CC-BY-ND-2.0", "family": "by-nd", "location": "a_tag", "confidence": "media", "scope": "media"}
ARR = {"spdx": "LicenseRef-All-Rights-Reserved", "family": "all-rights-reserved", "location": "footer_text",
       "confidence": "high", "scope": "page", "in_footer": True}
URL = "https://a.example/x"


def policy(**changes):
    base = load_policy()
    return replace(base, data={**base.data, **changes})


def run(signals, pol=None, **kw):
    return decide(signals, URL, "2024-06-01T00:00:00Z", kw.get("index"), pol or load_policy())


def test_licence_class_and_evidence():
    out = run({"licences": [CC_BY_FOOTER, CC_ND_MEDIA]})
    assert (out["licence"], out["redistribution"], out["train_eligible"], out["tdm_reserved"]) == (
        "CC-BY-4.0", "attribution", True, None)
    ev = json.loads(out["licence_evidence"])
    assert ev["chosen"] == "CC-BY-4.0" and len(ev["candidates"]) == 2 and ev["disagreement"] is False
    assert out["policy_version"] == "rights-policy-v2" and out["robots_ai_disallow"] is None


def test_no_signal_is_unknown():
    out = run({})
    assert (out["licence"], out["redistribution"], out["optout_reasons"], out["train_eligible"]) == (None, "unknown", [], True)


def test_medium_only_is_unknown_under_default_policy():
    assert run({"licences": [CC_BY_NC_BODY]})["redistribution"] == "unknown"
    assert run({"licences": [CC_BY_NC_BODY]}, policy(licence_min_confidence="medium"))["redistribution"] == "noncommercial"


def test_disagreement_is_unknown_or_most_restrictive():
    out = run({"licences": [CC_BY_FOOTER, CC_BY_NC_BODY]})
    assert out["redistribution"] == "unknown" and out["licence"] is None
    assert json.loads(out["licence_evidence"])["families"] == ["by", "by-nc"]
    out = run({"licences": [CC_BY_FOOTER, CC_BY_NC_BODY]}, policy(licence_disagreement="most_restrictive"))
    assert (out["licence"], out["redistribution"]) == ("CC-BY-NC-4.0", "noncommercial")


STRICT = str(STRICT_POLICY)
V1 = str(DEFAULT_POLICY.parent / "policy-v1.json")


def test_copyright_notice_is_reserved_but_trainable_by_default():
    out = run({"licences": [ARR]})
    assert (out["redistribution"], out["train_eligible"], out["optout_reasons"], out["copyright_notice"]) == (
        "reserved", True, [], True)
    assert json.loads(out["optout_evidence"])["copyright_notice"] == {"location": "footer_text", "treated_as_reservation": False}
    assert run({})["copyright_notice"] is False and "copyright_notice" not in json.loads(run({})["optout_evidence"])


@pytest.mark.parametrize("path, version", [(STRICT, "rights-policy-strict-v1"), (V1, "rights-policy-v1")])
def test_strict_and_first_policy_keep_notice_pages_out_of_training_without_calling_it_an_optout(path, version):
    out = run({"licences": [ARR]}, load_policy(path))
    assert (out["redistribution"], out["train_eligible"], out["optout_reasons"], out["copyright_notice"]) == (
        "reserved", False, [], True)
    assert json.loads(out["optout_evidence"])["copyright_notice"]["treated_as_reservation"] is True
    assert out["policy_version"] == version and "_rights_evidence" not in out


def test_notice_beside_a_licence_is_not_redistributed_and_an_optout_stays_an_optout():
    # a CC BY footer and "all rights reserved": disagreement, the notice keeps it out of redistribution
    out = run({"licences": [CC_BY_FOOTER, ARR]})
    assert (out["licence"], out["redistribution"], out["train_eligible"], out["copyright_notice"]) == (None, "reserved", True, True)
    both = {"licences": [ARR], "noai": {"meta": True}}
    for pol in (load_policy(), load_policy(STRICT)):
        out = run(both, pol)
        assert (out["optout_reasons"], out["train_eligible"], out["copyright_notice"]) == (["noai:meta"], False, True)


def test_drop_sends_notice_pages_to_the_ledger_only_under_the_strict_policy():
    assert "_rights_evidence" not in run({"licences": [ARR]}, policy(optout_action="drop"))
    strict = load_policy(STRICT)
    ev = run({"licences": [ARR]}, replace(strict, data={**strict.data, "optout_action": "drop"}))["_rights_evidence"]
    assert (ev["reasons"], ev["copyright_notice"], ev["policy_version"]) == ([], True, "rights-policy-strict-v1")


def test_optout_wins_over_licence_and_flags_conflict():
    out = run({"licences": [CC_BY_FOOTER], "tdmrep": {"header_reservation": "1"}})
    assert (out["licence"], out["redistribution"], out["tdm_reserved"], out["train_eligible"]) == (
        "CC-BY-4.0", "reserved", True, False)
    assert out["optout_reasons"] == ["tdmrep:http_header"]
    assert json.loads(out["optout_evidence"])["lic_optout_conflict"] is True


@pytest.mark.parametrize("signals, reason", [
    ({"noai": {"x_robots": True}}, "noai:x-robots-tag"),
    ({"noai": {"meta": True}}, "noai:meta"),
    ({"content_usage": {"train_ai": "n"}}, "aipref:http_header"),
    ({"tdmrep": {"meta_reservation": "1"}}, "tdmrep:html_meta"),
])
def test_each_optout_signal(signals, reason):
    out = run(signals)
    assert out["optout_reasons"] == [reason] and out["redistribution"] == "reserved" and not out["train_eligible"]


def test_near_misses_are_not_optouts():
    out = run({"tdmrep": {"header_reservation": "2"}, "noindex": True, "noimageai": {"meta": True}})
    assert out["optout_reasons"] == [] and out["tdm_reserved"] is None and out["train_eligible"]
    assert json.loads(out["optout_evidence"])["tdmrep"]["protocol_errors"] == ["http_header"]
    # tdm-reservation 0 is an explicit "not reserved"
    assert run({"tdmrep": {"header_reservation": "0"}})["tdm_reserved"] is False


def test_policy_switches():
    sig = {"noimageai": {"meta": True}, "noai": {"meta": True}}
    out = run(sig, policy(optout_signals={**load_policy()["optout_signals"], "noai": False, "noimageai": True}))
    assert out["optout_reasons"] == ["noimageai:meta"]
    out = run({"noai": {"meta": True}}, policy(tdm_basis="art3_research"))
    assert out["redistribution"] == "reserved" and out["train_eligible"] is True


def test_drop_policy_gives_exclusion_evidence_without_text():
    out = run({"tdmrep": {"header_reservation": "1", "header_policy": "https://a.example/p.json"}},
              policy(optout_action="drop"))
    ev = out["_rights_evidence"]
    assert ev["reasons"] == ["tdmrep:http_header"] and ev["policy_version"] == "rights-policy-v2"
    assert ev["tdm_policy"] == "https://a.example/p.json"
    assert "_rights_evidence" not in run({"tdmrep": {"header_reservation": "1"}})
