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

Before parsing, a page whose shape would cost minutes instead of milliseconds (HTML containers nested
deeper than `max_depth`, JSON-LD nested deeper than `max_json_depth`) is excluded with reason `too_complex`
and the measured depth as evidence: HTML tree builders spend time quadratic in the depth (measured: 200,000
nested `<div>` took 115 s here), and JSON parsers give up with RecursionError around 1,000 levels.

Usage inside a pipeline: `HtmlSignals()`; the agent list comes from the default policy.
"""

from __future__ import annotations

import re

from datatrove.data import Document
from selectolax.lexbor import LexborHTMLParser

from corpus_tools.core.document import TOO_COMPLEX, Annotator, exclude
from corpus_tools.rights.licences import licence_candidates
from corpus_tools.rights.optout import content_usage, robots_tokens
from corpus_tools.rights.policy import load_policy

SIGNALS_KEY = "_signals"
STAGE = "signals"

# Elements a parser closes implicitly (void elements, optional end tags) do not deepen the tree: leave them out.
_SHALLOW = frozenset("area base br col embed hr img input link meta param source track wbr p li dt dd option "
                     "optgroup tr td th thead tbody tfoot colgroup caption rb rt rtc rp html head body".split())
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,31})[^<>]*?(/?)>")
_JSON_LD = re.compile(r"<script[^>]*application/ld\+json[^>]*>(.*?)</script", re.I | re.S)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def html_depth(html: str, stop: int) -> int:
    """Deepest nesting of explicitly closed elements (a tag-level estimate, no parse); stops counting at `stop`."""
    if html.count("<") <= stop:  # fewer tags than the limit: the tree cannot be deeper
        return 0
    depth = deepest = 0
    for m in _TAG.finditer(html):
        name = m.group(2).lower()
        if name in _SHALLOW or m.group(3):
            continue
        if m.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop:
                    break
    return deepest


def json_ld_depth(html: str, stop: int) -> int:
    """Deepest bracket nesting over the page's JSON-LD blocks (strings skipped); stops counting at `stop`."""
    if "ld+json" not in html:
        return 0
    deepest = 0
    for block in _JSON_LD.finditer(html):
        depth = 0
        for m in _JSON_TOKEN.finditer(block.group(1)):
            c = m.group(0)
            if c in "[{":
                depth += 1
                deepest = max(deepest, depth)
                if deepest > stop:
                    return deepest
            elif c in "]}":
                depth -= 1
    return deepest


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


class HtmlSignals(Annotator):
    """policy_path: the policy whose agent list decides which user-agent-prefixed robots rules count,
    default manifests/policy-v2.json.
    max_depth: deepest element nesting parsed, default 5,000 (browsers stop nesting the tree at 512, Blink's
      HTMLConstructionSite; the deepest of the 586 real HTML payloads in ../shared/data measures 288, the
      median 13; 5,000 nested divs cost < 0.1 s to parse).
    max_json_depth: deepest JSON-LD nesting parsed, default 256 (the deepest of 268 real pages with JSON-LD
      measures 6; Python's json gives up near 1,000)."""

    name = "HtmlSignals"
    restage = "rights"
    stored = False  # the signals are working state: a restage re-reads the HTML from the WARC record
    param_aliases = {"policy": "policy_path"}

    def __init__(self, policy_path: str | None = None, max_depth: int = 5000, max_json_depth: int = 256):
        super().__init__()
        self.policy_path = load_policy(policy_path).path  # the file in force, also when the default was meant
        self.max_depth = max_depth
        self.max_json_depth = max_json_depth
        self.agents = {a.lower() for a in load_policy(policy_path).agents}

    def process(self, doc: Document) -> None:
        html = doc.text or ""
        for measure, limit, depth in (("html_depth", self.max_depth, lambda: html_depth(html, self.max_depth)),
                                      ("json_ld_depth", self.max_json_depth,
                                       lambda: json_ld_depth(html, self.max_json_depth))):
            measured = depth()
            if measured > limit:
                exclude(doc, STAGE, TOO_COMPLEX, rule="too_complex_v1",
                        evidence={"measure": measure, "measured_at_least": measured, "limit": limit})
                self.stat_update(TOO_COMPLEX)
                return
        signals = html_signals(doc.text, doc.metadata.get("_http_headers"), doc.metadata.get("url"), self.agents)
        doc.metadata[SIGNALS_KEY] = signals
        if signals["licences"]:
            self.stat_update("licence_candidates", value=len(signals["licences"]))
        if signals["tdmrep"]:
            self.stat_update("tdmrep_signal")
        if signals["noai"]["x_robots"] or signals["noai"]["meta"]:
            self.stat_update("noai")
