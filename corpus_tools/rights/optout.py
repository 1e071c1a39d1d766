"""Opt-out signals in one HTTP response: TDMRep, `noai` (robots meta and X-Robots-Tag), AIPREF Content-Usage.

Syntax and precedence follow specs/licensing.md §2:
- TDMRep (§2.1): `tdm-reservation` 1 = reserved, 0 = not reserved, anything else (e.g. the withdrawn `2`) is a
  protocol error and leaves the value unset. Cascade, last present wins: `/.well-known/tdmrep.json` rule
  (first matching rule in file order) -> HTTP header -> HTML `<meta>`; an absent signal never resets one.
- `noai` / `noimageai` (§2.5): comma-separated, case-insensitive tokens in `<meta name="robots">` and
  `X-Robots-Tag`; an X-Robots-Tag token prefixed with a user agent counts only for an AI-training agent.
  `noindex` is recorded but is not an AI opt-out.
- AIPREF `Content-Usage` (§2.3): a Structured Fields dictionary; `train-ai=n` anywhere wins (case-sensitive).

Pure functions; `stages/signals.py` calls them on the raw headers and HTML, `rights/decision.py` combines.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit


def norm01(value) -> int | None:
    """TDMRep boolean: 1 / 0, else None (a protocol error the agent must treat as unset)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in (0, 1) else None
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return None


def rep_path_match(pattern: str, path: str) -> bool:
    """robots.txt-style path matching (`*` any run, `$` end), case-sensitive, after percent-decoding."""
    if not isinstance(pattern, str):
        return False
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(unquote(p)) for p in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), unquote(path)) is not None


def url_path(url: str) -> str:
    parts = urlsplit(url or "")
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def tdmrep_wellknown(rules, url: str) -> dict | None:
    """The first rule of a parsed tdmrep.json that matches the URL's path, or None (unset)."""
    if not isinstance(rules, list):
        return None
    path = url_path(url)
    for i, rule in enumerate(rules):
        if isinstance(rule, dict) and rep_path_match(rule.get("location"), path):
            return {"rule_index": i, "location": rule.get("location"),
                    "reservation": norm01(rule.get("tdm-reservation")), "policy": rule.get("tdm-policy")}
    return None


def tdmrep_state(wellknown: dict | None, header_res: str | None, header_pol: str | None,
                 meta_res: str | None, meta_pol: str | None) -> dict:
    """The TDMRep cascade. Returns reservation (1, 0, None), source, policy URL, and protocol errors seen."""
    res, pol, src, errors = None, None, None, []
    if wellknown is not None:
        if wellknown["reservation"] is None:
            errors.append("wellknown")
        else:
            res, pol, src = wellknown["reservation"], wellknown.get("policy"), "wellknown"
    for name, raw, raw_pol in (("http_header", header_res, header_pol), ("html_meta", meta_res, meta_pol)):
        if raw is not None:
            value = norm01(raw)
            if value is None:
                errors.append(name)
            else:
                res, src = value, name
        if raw_pol:
            pol = raw_pol.strip()
    return {"reservation": res, "source": src, "policy": pol, "protocol_errors": errors}


_UA_PREFIX = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*:\s*(.*)$")
# X-Robots-Tag rules that carry their own `name: value`, so the name is not a user agent
_VALUED_RULES = {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}


def robots_tokens(value: str | None, agents: set[str] | None = None) -> dict:
    """Tokens of a robots meta content or X-Robots-Tag value, split into those that apply to AI training
    (unprefixed, or prefixed with an agent in `agents`, lower-case) and the rest."""
    out = {"applies": set(), "other_agents": set()}
    if not value:
        return out
    agent = None
    for part in value.split(","):
        m = _UA_PREFIX.match(part)
        if m and m.group(1).lower() not in _VALUED_RULES:
            agent, part = m.group(1).lower(), m.group(2)
        for token in part.replace(";", " ").split():
            token = token.strip().lower()
            if not token:
                continue
            if agent is None or (agents is not None and agent in agents):
                out["applies"].add(token)
            else:
                out["other_agents"].add(token)
    return out


def content_usage(value: str | None) -> dict:
    """AIPREF usage preferences, e.g. `train-ai=n, search=y` -> {'train_ai': 'n', 'raw': ...}.

    Only `train-ai` with the tokens `y` / `n` counts (tokens are case-sensitive); any `n` wins over `y`,
    several statements (repeated headers joined by ', ') combine the same way; nothing usable = 'unknown'."""
    if value is None:
        return {"train_ai": "unknown", "raw": None}
    seen = set()
    for member in value.split(","):
        key, _, rest = member.strip().partition("=")
        token = rest.split(";", 1)[0].strip()
        if key.strip() == "train-ai" and token in ("y", "n"):
            seen.add(token)
    train_ai = "n" if "n" in seen else "y" if "y" in seen else "unknown"
    return {"train_ai": train_ai, "raw": value[:200]}
