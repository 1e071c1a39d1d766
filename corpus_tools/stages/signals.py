"""`HtmlSignals`: licence and opt-out signals from the raw HTTP headers and HTML, before extraction.

Runs right after `WarcRecordReader`, while `doc.text` still holds the decoded HTML and
`doc.metadata["_http_headers"]` the response headers (lower-cased names). Parses the page once with
selectolax (lexbor) and stores the signals in `doc.metadata["_signals"]` (working state, not written);
`RightsDecision` turns them into columns after language ID. What it records (specs/licensing.md §2–3):

- `licences`: every licence candidate with location (link_tag, meta_tag, json_ld, microdata, a_tag,
  footer_text), head/footer position, scope (page or media) and confidence;
- `tdmrep`: raw `tdm-reservation` / `tdm-policy` from the headers and `<meta>`, and the obsolete `tdm-a`;
- `noai`, `noimageai`: from `X-Robots-Tag` and `<meta name="robots">` (or a meta named after an AI agent);
- `noindex`: recorded only, never an opt-out;
- `content_usage`: the AIPREF `Content-Usage` header, raw and parsed.

Usage inside a pipeline: `HtmlSignals()`; the agent list comes from the default policy.
"""

from __future__ import annotations

from datatrove.data import Document
from selectolax.lexbor import LexborHTMLParser

from corpus_tools.document import DocumentStep
from corpus_tools.rights.licences import licence_candidates
from corpus_tools.rights.optout import content_usage, robots_tokens
from corpus_tools.rights.policy import load_policy

SIGNALS_KEY = "_signals"


def html_signals(html: str, headers: dict[str, str] | None, url: str | None, agents: set[str]) -> dict:
    """All signals of one response; `agents` are lower-case AI-training tokens (for prefixed robots rules)."""
    headers = headers or {}
    tree = LexborHTMLParser(html or "")
    meta: dict[str, str] = {}
    robots_meta: list[str] = []
    for node in tree.css("meta[name]"):
        name = (node.attributes.get("name") or "").strip().lower()
        content = node.attributes.get("content")
        if content is None:
            continue
        if name in ("tdm-reservation", "tdm-policy"):
            meta.setdefault(name, content)
        elif name == "robots" or name in agents:
            robots_meta.append(content)
    xrt = robots_tokens(headers.get("x-robots-tag"), agents)
    mrt = set()
    for content in robots_meta:
        mrt |= robots_tokens(content, None)["applies"]
    tdm = {
        "header_reservation": headers.get("tdm-reservation"),
        "header_policy": headers.get("tdm-policy"),
        "meta_reservation": meta.get("tdm-reservation"),
        "meta_policy": meta.get("tdm-policy"),
    }
    if "tdm-a" in headers:
        tdm["nonstandard"] = ["tdm-a"]
    return {
        "licences": [c.to_json() for c in licence_candidates(tree, url)],
        "tdmrep": {k: v for k, v in tdm.items() if v is not None},
        "noai": {"x_robots": "noai" in xrt["applies"], "meta": "noai" in mrt},
        "noimageai": {"x_robots": "noimageai" in xrt["applies"], "meta": "noimageai" in mrt},
        "noindex": "noindex" in xrt["applies"] or "noindex" in mrt or "none" in mrt,
        "content_usage": content_usage(headers.get("content-usage")),
    }


class HtmlSignals(DocumentStep):
    """policy_path: the policy whose agent list decides which user-agent-prefixed robots rules count,
    default manifests/policy-v1.json."""

    name = "HtmlSignals"

    def __init__(self, policy_path: str | None = None):
        super().__init__()
        self.policy_path = policy_path
        self.agents = {a.lower() for a in load_policy(policy_path).agents}

    def process(self, doc: Document) -> None:
        signals = html_signals(doc.text, doc.metadata.get("_http_headers"), doc.metadata.get("url"), self.agents)
        doc.metadata[SIGNALS_KEY] = signals
        if signals["licences"]:
            self.stat_update("licence_candidates", value=len(signals["licences"]))
        if signals["tdmrep"]:
            self.stat_update("tdmrep_signal")
        if signals["noai"]["x_robots"] or signals["noai"]["meta"]:
            self.stat_update("noai")
