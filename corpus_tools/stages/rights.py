"""Rights: `RightsDecision` (annotator) turns signals + robots.txt / tdmrep.json captures + the policy into the
RIGHTS columns; `RightsRule` (rule) applies the policy's `optout_action: drop`.

Runs after language ID. Sets `licence`, `licence_evidence` (JSON: every candidate with location and
confidence, the chosen one, disagreement), `redistribution`, `tdm_reserved`, `optout_reasons`,
`copyright_notice`, `train_eligible`, `policy_version`, `optout_evidence` (JSON: TDMRep state and source, noai,
Content-Usage, the dated robots verdict with its capture, the copyright notice), `robots_ai_disallow`,
`robots_star_disallow`. An opted-out document goes to `redistribution=reserved` (default) or, if the policy
says `drop`, to the ledger (`RightsRule`: reason `optout`, rule = the policy version); a page with only a
copyright notice is reserved and trainable, unless the policy treats the notice as a reservation
(policy-strict-v1: not trainable, or ledger reason `copyright_notice` under `drop`). Every document that
passes, excluded or not, gets `policy_version`, so every exclusion row records the policy in force.

Usage: `RightsDecision(policy_path=None, robots=[robots WARC files]), RightsRule(policy_path=None)`; the
robots.txt index is built once, when the pipeline is built, so a bad policy or robots file fails before any
work starts.
"""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline

from corpus_tools.core.document import Annotator, Rule, Verdict
from corpus_tools.rights.decision import EVIDENCE_KEY, decide, reserves
from corpus_tools.rights.policy import load_policy
from corpus_tools.rights.robots import PolicyIndex
from corpus_tools.stages.signals import SIGNALS_KEY

STAGE = "rights"


class RightsDecision(Annotator):
    """policy_path: policy file, default manifests/policy-v2.json;
    robots: WARC files holding robots.txt (and tdmrep.json) captures of the crawl, default none."""

    name = "RightsDecision"
    restage = "rights"
    param_aliases = {"policy": "policy_path"}

    def __init__(self, policy_path: str | None = None, robots: list[str] | None = None):
        super().__init__()
        self.policy = load_policy(policy_path)
        self.policy_path = self.policy.path  # the file in force, also when the default was meant
        self.robots = list(robots or [])
        self.index = PolicyIndex.build(self.robots, self.policy.agents) if self.robots else None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        def stamped():
            for doc in data:
                doc.metadata["policy_version"] = self.policy.version
                yield doc
        yield from super().run(stamped(), rank, world_size)

    def process(self, doc: Document) -> None:
        meta = doc.metadata
        out = decide(meta.get(SIGNALS_KEY), meta.get("url"), meta.get("warc_date"), self.index, self.policy)
        meta.update(out)
        self.stat_update(f"redistribution.{out['redistribution']}")
        for reason in out["optout_reasons"]:
            self.stat_update(f"optout.{reason.split(':')[0]}")
        if out["copyright_notice"]:
            self.stat_update("copyright_notice")


class RightsRule(Rule):
    """Under a policy whose `optout_action` is `drop`, an opted-out document (or, where the policy treats a
    copyright notice as a reservation, a noticed one) goes to the ledger: reason `optout` /
    `copyright_notice`, rule = the policy's version, evidence = the signals that decided it.
    policy_path: policy file, default manifests/policy-v2.json (the same as `RightsDecision`'s)."""

    name = "RightsRule"
    restage = "rights"
    param_aliases = {"policy": "policy_path"}

    def __init__(self, policy_path: str | None = None):
        super().__init__()
        self.policy = load_policy(policy_path)
        self.policy_path = self.policy.path
        self.rule = self.policy.version

    def decide(self, doc: Document) -> Verdict | None:
        meta = doc.metadata
        evidence = meta.pop(EVIDENCE_KEY, None)
        if self.policy["optout_action"] != "drop" or not reserves(meta.get("optout_reasons"), meta.get("copyright_notice"), self.policy):
            return None
        evidence = evidence or {"reasons": meta.get("optout_reasons") or [], "copyright_notice": meta.get("copyright_notice"),
                                "policy_version": self.policy.version, "tdm_basis": self.policy["tdm_basis"]}
        return Verdict("optout" if meta.get("optout_reasons") else "copyright_notice", evidence)

    def versions(self) -> dict:
        return {"policy": self.policy.version, "agents": self.policy.agents_version}

    def may_keep(self, row: dict, parent: "RightsRule") -> bool:
        return self.policy.data != parent.policy.data
