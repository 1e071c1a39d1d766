"""The rights decision: signals + robots/tdmrep captures + policy -> the RIGHTS columns (and maybe an exclusion).

`decide(signals, url, fetch_date, index, policy)` is pure: the same stored signals and policy always give the
same columns, so an auditor can re-derive every decision (annotate, then decide).

- licence: only page-level candidates at or above `licence_min_confidence` count; if the page-level
  candidates of at least medium confidence name different licence families (versions ignored), the
  licence is a disagreement and the class `unknown` (or the most restrictive one if the policy says so).
- opt-out: each machine-readable signal the policy enables adds a reason (`tdmrep:http_header`,
  `robots:GPTBot`, …); any reason -> `redistribution=reserved`, and `train_eligible=false` under
  `tdm_basis=art4_general`. A permissive licence plus an opt-out: the opt-out wins, `lic_optout_conflict`
  is recorded.
- copyright notice: an "all rights reserved" footer is not an opt-out and never a reason. It sets
  `copyright_notice=true` and the class of `all-rights-reserved` (`reserved`: not redistributed); the page
  stays trainable unless the policy says `all_rights_reserved_optout` (policy-strict-v1), which treats the
  notice as a reservation of TDM rights (`train_eligible=false`, `optout_evidence.copyright_notice`).
"""

from __future__ import annotations

import json

from corpus_tools.rights.licences import CONFIDENCE_RANK
from corpus_tools.rights.optout import tdmrep_state, tdmrep_wellknown
from corpus_tools.rights.policy import Policy

_LOCATION_ORDER = {"meta_tag": 0, "json_ld": 1, "link_tag": 2, "microdata": 3, "a_tag": 4, "footer_text": 5}
# most restrictive first: used when the policy resolves a disagreement to the most restrictive class
_RESTRICTIVE = ["reserved", "noderivatives", "noncommercial", "unknown", "sharealike", "attribution", "open"]


def choose_licence(candidates: list[dict], policy: Policy) -> dict:
    """licence, class and the evidence summary from the page's candidates."""
    min_rank = CONFIDENCE_RANK[policy["licence_min_confidence"]]
    page = [c for c in candidates if c.get("spdx") and c.get("scope", "page") == "page"]
    considered = [c for c in page if CONFIDENCE_RANK[c["confidence"]] >= min(min_rank, CONFIDENCE_RANK["medium"])]
    qualifying = [c for c in page if CONFIDENCE_RANK[c["confidence"]] >= min_rank]
    families = sorted({c["family"] for c in considered})
    out = {"licence": None, "redistribution": "unknown", "disagreement": len(families) > 1, "families": families,
           "confidence": None}
    if not qualifying:
        return out
    classes = policy["classes"]
    if out["disagreement"]:
        if policy["licence_disagreement"] == "most_restrictive":
            worst = min(considered, key=lambda c: _RESTRICTIVE.index(classes[c["family"]]))
            out.update(licence=worst["spdx"], redistribution=classes[worst["family"]], confidence=worst["confidence"])
        return out
    best = min(qualifying, key=lambda c: (-CONFIDENCE_RANK[c["confidence"]], _LOCATION_ORDER.get(c["location"], 9),
                                          not c.get("in_head"), not c.get("in_footer")))
    out.update(licence=best["spdx"], redistribution=classes[best["family"]], confidence=best["confidence"])
    return out


EVIDENCE_KEY = "_rights_evidence"  # working state: what a `drop` policy's ledger row records (`RightsRule`)


def reserves(optout_reasons, copyright_notice, policy: Policy) -> bool:
    """Is the document reserved (not redistributed; dropped under `optout_action: drop`)? An opt-out always
    reserves; a copyright notice only where the policy says so (it is never an opt-out reason)."""
    return bool(optout_reasons) or bool(copyright_notice and policy["all_rights_reserved_optout"])


def decide(signals: dict | None, url: str | None, fetch_date: str | None, index, policy: Policy) -> dict:
    """The RIGHTS columns for one document, plus `_rights_evidence` (working state: what `RightsRule` records) when the policy drops it."""
    signals = signals or {}
    enabled = policy["optout_signals"]
    basis = policy["robots_basis"]
    lic = choose_licence(signals.get("licences", []), policy)

    tdm = signals.get("tdmrep", {})
    wellknown, wellknown_capture = None, None
    if index is not None and url:
        rules, wellknown_capture = index.tdmrep_rules(url, fetch_date, basis)
        wellknown = tdmrep_wellknown(rules, url)
    state = tdmrep_state(wellknown, tdm.get("header_reservation"), tdm.get("header_policy"),
                         tdm.get("meta_reservation"), tdm.get("meta_policy"))
    robots = index.robots_verdict(url, fetch_date, basis) if index is not None and url else None

    reasons: list[str] = []
    if enabled["tdmrep"] and state["reservation"] == 1:
        reasons.append(f"tdmrep:{state['source']}")
    if enabled["aipref_header"] and signals.get("content_usage", {}).get("train_ai") == "n":
        reasons.append("aipref:http_header")
    for where in ("x_robots", "meta"):
        label = "x-robots-tag" if where == "x_robots" else "meta"
        if enabled["noai"] and signals.get("noai", {}).get(where):
            reasons.append(f"noai:{label}")
        if enabled["noimageai"] and signals.get("noimageai", {}).get(where):
            reasons.append(f"noimageai:{label}")
    if robots is not None:
        if enabled["aipref_robots"] and robots["content_usage_train_ai"] == "n":
            reasons.append("aipref:robots")
        if enabled["content_signal"] and robots["content_signal_ai_train"] == "no":
            reasons.append("content_signal:ai-train=no")
        if enabled["robots_ai_agents"]:
            reasons.extend(f"robots:{a}" for a in robots["ai_disallow"])
        if enabled["robots_star"] and robots["star_disallow"]:
            reasons.append("robots:*")
    notice = "all-rights-reserved" in lic["families"]
    notice_reserves = notice and policy["all_rights_reserved_optout"]
    reserved = reserves(reasons, notice, policy)
    redistribution = "reserved" if reserved else policy["classes"]["all-rights-reserved"] if notice else lic["redistribution"]
    train_eligible = not reserved or policy["tdm_basis"] == "art3_research"
    optout_evidence = {
        "tdmrep": {k: v for k, v in {**state, "wellknown_rule": wellknown, "wellknown_capture": wellknown_capture,
                                     "nonstandard": tdm.get("nonstandard")}.items() if v not in (None, [], {})},
        "noai": signals.get("noai"), "noimageai": signals.get("noimageai"), "noindex": signals.get("noindex"),
        "content_usage": signals.get("content_usage"),
        "robots": robots if robots is not None else "not_checked",
        "robots_agents": policy.agents_version,
        "tdm_basis": policy["tdm_basis"],
        "copyright_notice": {"location": "footer_text", "treated_as_reservation": notice_reserves} if notice else None,
    }
    if reserved and lic["redistribution"] in ("open", "attribution", "sharealike", "noncommercial", "noderivatives"):
        optout_evidence["lic_optout_conflict"] = True
    evidence = {"candidates": signals.get("licences", []), "chosen": lic["licence"], "confidence": lic["confidence"],
                "disagreement": lic["disagreement"], "families": lic["families"]}
    out = {
        "licence": lic["licence"],
        "licence_evidence": json.dumps(evidence, sort_keys=True, ensure_ascii=False),
        "redistribution": redistribution,
        "tdm_reserved": None if state["reservation"] is None else state["reservation"] == 1,
        "optout_reasons": reasons,
        "copyright_notice": notice,
        "train_eligible": train_eligible,
        "policy_version": policy.version,
        "optout_evidence": json.dumps({k: v for k, v in optout_evidence.items() if v is not None}, sort_keys=True),
        "robots_ai_disallow": robots["ai_disallow"] if robots is not None else None,
        "robots_star_disallow": robots["star_disallow"] if robots is not None else None,
    }
    if reserved and policy["optout_action"] == "drop":
        capture = (robots or {}).get("capture") or {}
        out[EVIDENCE_KEY] = {
            "reasons": reasons, "copyright_notice": notice, "policy_version": policy.version, "tdm_basis": policy["tdm_basis"],
            "tdmrep_source": state["source"], "tdm_policy": state["policy"],
            "robots_capture": {k: capture.get(k) for k in ("warc_record_id", "date", "sha256", "status")} if capture else None,
            "robots_http_class": (robots or {}).get("http_class"),
            "tdmrep_capture": {k: (wellknown_capture or {}).get(k) for k in ("warc_record_id", "date", "sha256")} if wellknown_capture else None,
        }
    return out
