"""robots.txt and `/.well-known/tdmrep.json` captures, indexed per host, and dated per-URL verdicts.

`PolicyIndex.build(files)` reads the WARCs the user passes with `corpus run … --robots PATH` (e.g. Common
Crawl's `robotstxt` subset of the same crawl). Every `response` record whose path is `/robots.txt` or
`/.well-known/tdmrep.json` becomes a capture: host, fetch date, WARC record id, HTTP status, sha256 of the
payload, redirect target. Other records are skipped unread, so passing the main crawl itself too is a cheap
pre-pass that picks up any tdmrep.json it holds (the document reader excludes those as `non_html`).

Verdicts (specs/licensing.md §2.2–2.4), for the AI-training agents of `manifests/ai_agents-v1.json` and `*`:
- RFC 9309 matching by protego (agent group, else `*`; longest match; Allow wins a tie);
- 2xx: parse; 3xx: follow up to 5 redirects through the captures; 4xx: allow all; 5xx: disallow all;
  a redirect whose target was not captured counts as unavailable (allow all), as RFC 9309 §2.3.1.2 allows;
- `Content-Signal: [path] ai-train=no` (Cloudflare) and AIPREF `Content-Usage: [path] train-ai=n` rules in
  the applicable group, longest path wins, the most restrictive value on a tie;
- dated: `at_fetch` uses the last capture at or before the document's fetch date (else the first after it,
  flagged `after_fetch`); `latest` uses the most recent capture. Both are computed; the policy picks one.

Use: `idx = PolicyIndex.build(files, agents)`; `idx.robots_verdict(url, warc_date)`; `idx.tdmrep_rules(url)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from protego import Protego
from warcio.archiveiterator import ArchiveIterator

from corpus_tools.core import storage
from corpus_tools.core.errors import InputError
from corpus_tools.rights.optout import rep_path_match, url_path

ROBOTS_PATH = "/robots.txt"
TDMREP_PATH = "/.well-known/tdmrep.json"
MAX_REDIRECTS = 5
MAX_BYTES = 500_000  # Google reads the first 500 KiB of a robots.txt; RFC 9309 §2.5 asks for at least 500 KiB


def host_key(url: str | None) -> str | None:
    """scheme-less host[:port] in lower case: the unit robots.txt and tdmrep.json apply to."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return None
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{port}" if port and port != default else host


def norm_date(value: str | None) -> str:
    """WARC-Date (ISO 8601, any precision) or ARC 14-digit date -> 'YYYY-MM-DDTHH:MM:SS', comparable as text."""
    v = (value or "").strip()
    if re.fullmatch(r"\d{14}", v):
        return f"{v[:4]}-{v[4:6]}-{v[6:8]}T{v[8:10]}:{v[10:12]}:{v[12:14]}"
    return v[:19]


@dataclass
class Capture:
    url: str
    date: str
    record_id: str
    status: int | None
    sha256: str | None
    body: bytes = b""
    location: str | None = None

    def ref(self) -> dict:
        return {"url": self.url, "date": self.date, "warc_record_id": self.record_id, "status": self.status,
                "sha256": self.sha256}


@dataclass
class PolicyIndex:
    """Captures per (artefact, host), each list sorted by fetch date."""

    agents: list[str]
    robots: dict[str, list[Capture]] = field(default_factory=dict)
    tdmrep: dict[str, list[Capture]] = field(default_factory=dict)
    by_url: dict[str, list[Capture]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, files: list[str], agents: list[str]) -> PolicyIndex:
        idx = cls(agents=list(agents), files=list(files))
        for path in files:
            idx._read(path)
        for table in (idx.robots, idx.tdmrep, idx.by_url):
            for caps in table.values():
                caps.sort(key=lambda c: (norm_date(c.date), c.record_id))
        return idx

    def _read(self, path: str) -> None:
        stream = storage.open_read(path)
        with contextlib.closing(stream):
            try:
                for record in ArchiveIterator(stream, arc2warc=True, check_digests=False):
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    url = record.rec_headers.get_header("WARC-Target-URI") or ""
                    p = urlsplit(url).path
                    ctype = (record.http_headers.get_header("content-type") or "").lower()
                    # redirect targets of robots.txt can have any path: keep small text/plain responses too
                    if p not in (ROBOTS_PATH, TDMREP_PATH) and not ctype.startswith("text/plain"):
                        continue
                    status = None
                    with contextlib.suppress(ValueError, TypeError):
                        status = int(record.http_headers.get_statuscode())
                    body = record.content_stream().read(MAX_BYTES)
                    cap = Capture(url=url, date=record.rec_headers.get_header("WARC-Date") or "",
                                  record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
                                  status=status, sha256=hashlib.sha256(body).hexdigest(), body=body,
                                  location=record.http_headers.get_header("location"))
                    self.by_url.setdefault(url, []).append(cap)
                    key = host_key(url)
                    if p == ROBOTS_PATH:
                        self.robots.setdefault(key, []).append(cap)
                    elif p == TDMREP_PATH:
                        self.tdmrep.setdefault(key, []).append(cap)
            except Exception as e:  # warcio raises many types on damaged input
                raise InputError(f"cannot read robots WARC {path} ({type(e).__name__}): check the file or drop it from --robots") from None

    # ------------------------------------------------------------------------------------------ choose

    @staticmethod
    def _pick(caps: list[Capture], fetch_date: str | None, basis: str) -> tuple[Capture | None, bool]:
        if not caps:
            return None, False
        if basis == "latest" or not fetch_date:
            return caps[-1], False
        fetch = norm_date(fetch_date)
        before = [c for c in caps if c.date and norm_date(c.date) <= fetch]
        return (before[-1], False) if before else (caps[0], True)

    def _resolve(self, cap: Capture) -> tuple[Capture, list[str]]:
        """Follow 3xx through the captures; returns the final capture and the chain of URLs."""
        chain = [cap.url]
        while cap.status is not None and 300 <= cap.status < 400 and len(chain) <= MAX_REDIRECTS:
            target = urljoin(cap.url, cap.location or "")
            nxt = self.by_url.get(target)
            if not cap.location or not nxt:
                break
            cap = nxt[-1]
            chain.append(cap.url)
        return cap, chain

    def _parsed(self, cap: Capture):
        """protego parser and extension-rule groups of a capture, parsed once per capture."""
        cache = self.__dict__.setdefault("_parsed_cache", {})
        key = (cap.record_id, cap.url, cap.date)
        if key not in cache:
            text = cap.body.decode("utf-8", "replace")
            cache[key] = (Protego.parse(text), _groups(text))
        return cache[key]

    # ----------------------------------------------------------------------------------------- verdicts

    def tdmrep_rules(self, url: str, fetch_date: str | None = None, basis: str = "at_fetch") -> tuple[list | None, dict | None]:
        """Parsed rules of the host's tdmrep.json (None if not captured or not a valid JSON array) and its capture."""
        cap, _ = self._pick(self.tdmrep.get(host_key(url), []), fetch_date, basis)
        if cap is None:
            return None, None
        cap, _ = self._resolve(cap)
        if cap.status != 200:
            return None, cap.ref()
        try:
            rules = json.loads(cap.body.decode("utf-8-sig", "replace"))
        except ValueError:
            return None, {**cap.ref(), "error": "invalid_json"}
        if not isinstance(rules, list):
            return None, {**cap.ref(), "error": "not_an_array"}
        return rules, cap.ref()

    def robots_verdict(self, url: str, fetch_date: str | None = None, basis: str = "at_fetch") -> dict:
        """The robots.txt verdict for one URL: which training agents and whether `*` are disallowed, with evidence."""
        cap, after = self._pick(self.robots.get(host_key(url), []), fetch_date, basis)
        if cap is None:
            return {"basis": basis, "http_class": "missing", "ai_disallow": [], "star_disallow": False,
                    "content_signal_ai_train": "unknown", "content_usage_train_ai": "unknown"}
        final, chain = self._resolve(cap)
        out = {"basis": basis, "capture": final.ref(), "after_fetch": after or None}
        if len(chain) > 1:
            out["redirects"] = chain
        status = final.status or 0
        cs, cu = "unknown", "unknown"
        if 200 <= status < 300:
            rp, groups = self._parsed(final)
            disallowed = [a for a in self.agents if not rp.can_fetch(url, a)]
            star = not rp.can_fetch(url, "*")
            cs, cu = extension_rules(groups, url, self.agents)
            out["http_class"] = "3xx_followed" if len(chain) > 1 else "2xx"
        elif 300 <= status < 400 or 400 <= status < 500:
            disallowed, star = [], False
            out["http_class"] = "4xx_allow_all" if 400 <= status < 500 else "3xx_unresolved_allow_all"
        elif status >= 500:
            disallowed, star = list(self.agents), True
            out["http_class"] = "5xx_disallow_all"
        else:
            disallowed, star = [], False
            out["http_class"] = "unparsed_status"
        out.update(ai_disallow=disallowed, star_disallow=star, content_signal_ai_train=cs, content_usage_train_ai=cu)
        return {k: v for k, v in out.items() if v is not None}


_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*?)\s*(?:#.*)?$")


def _groups(text: str) -> list[tuple[set[str], list[tuple[str, str, str]]]]:
    """robots.txt groups: (agents lower-case, [(field, path, value)]) for Content-Signal / Content-Usage lines.
    Lines before the first user-agent form a group that applies to every agent."""
    groups: list[tuple[set[str], list]] = [({"*", "__global__"}, [])]
    in_agents = False
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        name, value = m.group(1).lower(), m.group(2)
        if name == "user-agent":
            if not in_agents:
                groups.append((set(), []))
                in_agents = True
            groups[-1][0].add(value.strip().lower())
            continue
        in_agents = False
        if name in ("content-signal", "content-usage"):
            path, value = ("", value)
            if value.startswith("/"):
                path, _, value = value.partition(" ")
            groups[-1][1].append((name, path or "/", value.strip()))
    return groups


def _applicable(groups, agent: str) -> list[tuple[str, str, str]]:
    agent = agent.lower()
    specific = [rules for agents, rules in groups if agent != "*" and agent in agents]
    if specific:
        rules = [r for rs in specific for r in rs]
    else:
        rules = [r for agents, rs in groups if "*" in agents and "__global__" not in agents for r in rs]
    return rules + [r for agents, rs in groups if "__global__" in agents for r in rs]


def extension_rules(text_or_groups, url: str, agents: list[str]) -> tuple[str, str]:
    """(content_signal ai-train: yes/no/unknown, content-usage train-ai: y/n/unknown) for the URL, over the
    groups of `*` and of every training agent; any 'no' / 'n' wins. Takes robots.txt text or `_groups(text)`."""
    groups = _groups(text_or_groups) if isinstance(text_or_groups, str) else text_or_groups
    path = url_path(url)
    signal, usage = set(), set()
    for agent in ["*", *agents]:
        for kind in ("content-signal", "content-usage"):
            rules = [r for r in _applicable(groups, agent) if r[0] == kind and rep_path_match(r[1], path)]
            if not rules:
                continue
            longest = max(len(r[1]) for r in rules)
            for _, p, value in rules:
                if len(p) != longest:
                    continue
                for member in value.split(","):
                    k, _, v = member.strip().partition("=")
                    v = v.split(";", 1)[0].strip()
                    if kind == "content-signal" and k.strip().lower() == "ai-train" and v.lower() in ("yes", "no"):
                        signal.add(v.lower())
                    if kind == "content-usage" and k.strip() == "train-ai" and v in ("y", "n"):
                        usage.add(v)
    cs = "no" if "no" in signal else "yes" if "yes" in signal else "unknown"
    cu = "n" if "n" in usage else "y" if "y" in usage else "unknown"
    return cs, cu
