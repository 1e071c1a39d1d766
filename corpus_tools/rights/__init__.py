"""Rights: licence detection, opt-out signals, robots.txt / tdmrep.json captures, the policy and the decision.

- `licences`: licence URLs and names -> SPDX-style ids; licence candidates in a page with location and confidence.
- `optout`: TDMRep, `noai` / `noimageai`, AIPREF `Content-Usage` parsing and the TDMRep cascade.
- `robots`: robots.txt and `/.well-known/tdmrep.json` captures from WARCs, per host; dated verdicts.
- `policy`: the versioned policy file (default `manifests/policy-v2.json`) and the AI-agent list it names.
- `decision`: signals + captures + policy -> the RIGHTS columns of `corpus_tools/core/schema.py`.

The pipeline steps are `corpus_tools.stages.signals.HtmlSignals` and `corpus_tools.stages.rights.RightsDecision`;
specs/licensing.md §2–3 is the specification.
"""
