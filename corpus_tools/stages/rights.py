"""`RightsDecision`: signals + robots.txt / tdmrep.json captures + the policy -> the RIGHTS columns.

Runs after language ID. Sets `licence`, `licence_evidence` (JSON: every candidate with location and
confidence, the chosen one, disagreement), `redistribution`, `tdm_reserved`, `optout_reasons`,
`copyright_notice`, `train_eligible`, `policy_version`, `optout_evidence` (JSON: TDMRep state and source, noai,
Content-Usage, the dated robots verdict with its capture, the copyright notice), `robots_ai_disallow`,
`robots_star_disallow`. An opted-out document goes to `redistribution=reserved` (default) or, if the policy
says `drop`, to the ledger with `exclude(doc, "rights", "optout", …)`; a page with only a copyright notice is
reserved and trainable, unless the policy treats the notice as a reservation (policy-strict-v1: not trainable,
or ledger reason `copyright_notice` under `drop`). Every document that passes, excluded or not, gets
`policy_version`, so every exclusion row records the policy in force.

Usage: `RightsDecision(policy_path=None, robots=[robots WARC files])`; the robots.txt index is built once,
when the pipeline is built, so a bad policy or robots file fails before any work starts.
"""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline

from corpus_tools.document import DocumentStep, exclude
from corpus_tools.rights.decision import decide
from corpus_tools.rights.policy import load_policy
from corpus_tools.rights.robots import PolicyIndex
from corpus_tools.stages.signals import SIGNALS_KEY

STAGE = "rights"


class RightsDecision(DocumentStep):
    """policy_path: policy file, default manifests/policy-v2.json;
    robots: WARC files holding robots.txt (and tdmrep.json) captures of the crawl, default none."""

    name = "RightsDecision"

    def __init__(self, policy_path: str | None = None, robots: list[str] | None = None):
        super().__init__()
        self.policy = load_policy(policy_path)
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
        drop = out.pop("_exclusion", None)
        meta.update(out)
        self.stat_update(f"redistribution.{out['redistribution']}")
        for reason in out["optout_reasons"]:
            self.stat_update(f"optout.{reason.split(':')[0]}")
        if out["copyright_notice"]:
            self.stat_update("copyright_notice")
        if drop is not None:
            reason = "optout" if drop["reasons"] else "copyright_notice"
            exclude(doc, STAGE, reason, rule=self.policy.version, evidence=drop)
