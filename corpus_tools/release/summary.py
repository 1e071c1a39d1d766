"""Data of the EU AI Act public summary of training content (AI Office template, 24 July 2025; spec
licensing.md sec. 4), computed with DuckDB from the release files alone, so anyone can recount it.

    from corpus_tools.release.summary import compute_summary, render_markdown
    data = compute_summary(con, release["inputs"], release_meta)   # con: corpus_tools.release.store views

Definitions (each number in the summary is one SQL aggregate over the views `documents` / `exclusions`):
- size: documents, words (`n_words`), characters (`n_chars`), UTF-8 bytes of `text` (`strlen`). The token
  band uses UTF-8 bytes as an upper bound of tokens (every token of a byte-level tokenizer covers >= 1 byte).
- languages: per `lang`, documents and UTF-8 bytes, share = bytes / all bytes (6 decimals).
- collection period: first and latest `WARC-Date` of the kept documents.
- top domains: registered domains ranked by UTF-8 bytes (ties by name), the top 10 % (at least one),
  as the template's footnote 16 asks for non-SME providers.
- crawlers: the warcinfo fields (software, user agent, robots) of every input WARC file (release.json `inputs`).
- opt-out (the reservations honoured, §3.1): ledger rows of the rights stage for an opt-out, per signal (the
  `reasons` in their evidence, the part before ':'), kept documents per signal in `optout_reasons` (opted-out
  pages kept as `reserved`), and by `train_eligible`. Only machine-readable opt-outs count.
- copyright notices, listed apart: kept documents with `copyright_notice` ("all rights reserved": never
  redistributed, trainable unless the policy treats the notice as a reservation), by `train_eligible`, and
  ledger rows with reason `copyright_notice`. Releases made before rights-policy-v2 recorded the notice as the
  reason `all_rights_reserved`; it is counted here, never as an opt-out.
- PII: ledger rows of the pii stage, and the masking counters in `pii_counts` where that column exists.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from corpus_tools.core.schema import warc_timestamp

TEMPLATE = "EU AI Office, Explanatory Notice and Template for the Public Summary of Training Content, C(2025) 5235 (24 July 2025)"
TOP_DOMAIN_FRACTION = 0.10  # footnote 16 of the template (SMEs: 5 % or 1000 domains)
OPTOUT_STAGES = ("rights", "optout", "robots", "tdmrep")
NOTICE_REASON = "copyright_notice"      # ledger reason of a page dropped for its notice alone (strict policy, drop)
LEGACY_NOTICE = "all_rights_reserved"   # how rights-policy-v1 releases wrote the notice into optout_reasons
ILLEGAL_STAGES = ("quality", "denylist", "safety")
PII_STAGES = ("pii",)
BANDS = ((1e9, "less than 1 billion tokens"), (1e13, "1 billion to 10 trillion tokens"), (math.inf, "more than 10 trillion tokens"))
OPTOUT_MEASURES = (
    "Opt-out signals are read before extraction from the HTTP headers and HTML of every record: W3C TDMRep "
    "(tdm-reservation), X-Robots-Tag / robots meta noai, IETF AIPREF Content-Usage, Cloudflare Content-Signal, "
    "and robots.txt rules for AI user agents where robots.txt captures are supplied. An opted-out page is not "
    "trainable under DSM Art. 4; its exclusion is recorded in the ledger with the signal as reason.")
NOTICE_MEASURES = (
    "A general copyright notice (\"all rights reserved\") is not a reservation by machine-readable means (DSM Art. 4(3), "
    "Recital 18) and is not counted as an opt-out: such pages are never redistributed (redistribution=reserved) and are "
    "trainable unless the policy in force treats the notice as a reservation.")
PII_MEASURES = ("E-mail addresses, public IP addresses, phone numbers and IBANs are masked in the text; only counts "
                "are kept, never the values.")


def _scalar(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def _columns(con, view: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {view}").fetchall()}


def _by(con, sql: str, params=None) -> dict[str, int]:
    return {str(k): int(v) for k, v in con.execute(sql, params or []).fetchall()}


def parse_warc_date(value) -> datetime | None:
    """WARC-Date / ARC archive-date text or a stored `warc_date` timestamp -> aware UTC datetime; None if unreadable."""
    return warc_timestamp(value)


def size_band(utf8_bytes: int) -> str:
    return next(label for limit, label in BANDS if utf8_bytes < limit)


def _in(stages) -> str:
    return "(" + ", ".join(f"'{s}'" for s in stages) + ")"


def _pii_counts(con) -> dict[str, int]:
    cols = _columns(con, "documents")
    kind = cols.get("pii_counts", "")
    if kind.startswith("STRUCT"):
        # DuckDB prints STRUCT(email BIGINT, "ip" BIGINT, ...): the field names are the words before a type
        fields = re.findall(r'(?:\(|, )"?([A-Za-z0-9_]+)"? [A-Z]', kind)
        if not fields:
            return {}
        sums = con.execute("SELECT " + ", ".join(f'coalesce(sum(pii_counts."{f}"), 0)' for f in fields)
                           + " FROM documents").fetchone()  # one scan for every field
        return {f: int(v or 0) for f, v in zip(fields, sums)}
    if kind.startswith("MAP"):
        return _by(con, "SELECT e.key, sum(e.value) FROM (SELECT unnest(map_entries(pii_counts)) AS e FROM documents) GROUP BY 1 ORDER BY 1")
    return {}


# SQL over the ledger: a rights-stage row is an opt-out unless it was dropped for a notice alone
_SIGNALS = "json_extract_string(evidence, '$.reasons[*]')"
OPTOUT_ROW = (f"(stage IN {_in(OPTOUT_STAGES)} AND reason <> '{NOTICE_REASON}' AND "
              f"coalesce(len(list_filter({_SIGNALS}, lambda r: r <> '{LEGACY_NOTICE}')) > 0, true))")
NOTICE_ROW = f"(stage IN {_in(OPTOUT_STAGES)} AND NOT {OPTOUT_ROW})"


def notice_docs(con) -> str:
    """SQL condition on `documents`: the page carries a copyright notice (either column layout)."""
    cols = _columns(con, "documents")
    has = (["copyright_notice IS TRUE"] if "copyright_notice" in cols else []) + \
          ([f"list_contains(optout_reasons, '{LEGACY_NOTICE}')"] if "optout_reasons" in cols else [])
    return "(" + (" OR ".join(has) or "false") + ")"


def optout_signals(con, prefix: bool = True) -> tuple[dict[str, int], dict[str, int]]:
    """(kept documents, ledger rows) per opt-out signal; `prefix`: the part before ':' (robots, not robots:GPTBot).
    A record with two signals counts under both; a copyright notice is never a signal."""
    key = "split_part(r, ':', 1)" if prefix else "r"
    kept = _by(con, f"SELECT {key}, count(*) FROM (SELECT unnest(optout_reasons) AS r FROM documents) "
                    f"WHERE r <> '{LEGACY_NOTICE}' GROUP BY 1 ORDER BY 1") if "optout_reasons" in _columns(con, "documents") else {}
    excluded = _by(con, f"SELECT {key}, count(*) FROM (SELECT unnest(coalesce({_SIGNALS}, [reason])) AS r FROM exclusions "
                        f"WHERE {OPTOUT_ROW}) WHERE r <> '{LEGACY_NOTICE}' GROUP BY 1 ORDER BY 1")
    return kept, excluded


def notices(con) -> dict:
    """Copyright notices (not opt-outs): kept documents, their train eligibility, and ledger rows."""
    kept = _by(con, "SELECT CASE WHEN train_eligible THEN 'true' WHEN NOT train_eligible THEN 'false' ELSE 'unknown' END, "
                    f"count(*) FROM documents WHERE {notice_docs(con)} GROUP BY 1 ORDER BY 1")
    excluded = int(_scalar(con, f"SELECT count(*) FROM exclusions WHERE {NOTICE_ROW}"))
    return {"kept": sum(kept.values()), "kept_train_eligible": kept, "excluded": excluded}


def compute_summary(con, inputs: list[dict], release_meta: dict) -> dict:
    """The summary as a JSON-able dict (schema manifests/summary.schema.json). Deterministic."""
    n_docs = int(_scalar(con, "SELECT count(*) FROM documents"))
    size = con.execute("SELECT coalesce(sum(n_words), 0), coalesce(sum(n_chars), 0), coalesce(sum(strlen(text)), 0) FROM documents").fetchone()
    words, chars, nbytes = (int(x) for x in size)
    langs = [{"lang": lang, "documents": int(d), "utf8_bytes": int(b), "share": round(int(b) / nbytes, 6) if nbytes else 0.0}
             for lang, d, b in con.execute(
                 "SELECT coalesce(lang, 'und'), count(*), coalesce(sum(strlen(text)), 0) AS b FROM documents GROUP BY 1 ORDER BY b DESC, 1").fetchall()]
    dates = [d for d in (parse_warc_date(r[0]) for r in con.execute("SELECT DISTINCT warc_date FROM documents").fetchall()) if d]
    period = {"start": min(dates).strftime("%m/%Y") if dates else None, "end": max(dates).strftime("%m/%Y") if dates else None,
              "first_capture": min(dates).isoformat() if dates else None, "latest_capture": max(dates).isoformat() if dates else None}
    domains = con.execute("SELECT domain, coalesce(sum(strlen(text)), 0) AS b, count(*) FROM documents WHERE domain IS NOT NULL "
                          "GROUP BY 1 ORDER BY b DESC, 1").fetchall()
    listed = max(1, math.ceil(TOP_DOMAIN_FRACTION * len(domains))) if domains else 0
    crawlers: dict[tuple, dict] = {}
    for inp in inputs:
        w = inp.get("warcinfo") or {}
        key = (w.get("software"), w.get("http-header-user-agent"), w.get("robots"), w.get("isPartOf"), w.get("publisher"))
        c = crawlers.setdefault(key, {"software": key[0], "user_agent": key[1], "robots": key[2], "is_part_of": key[3],
                                      "publisher": key[4], "warc_files": 0})
        c["warc_files"] += 1
    excluded = _by(con, "SELECT stage || '/' || reason, count(*) FROM exclusions GROUP BY 1 ORDER BY 1")
    kept_signals, excluded_signals = optout_signals(con)
    eligible = _by(con, "SELECT CASE WHEN train_eligible THEN 'true' WHEN NOT train_eligible THEN 'false' ELSE 'unknown' END, count(*) "
                        "FROM documents GROUP BY 1 ORDER BY 1")
    return {
        "template": TEMPLATE,
        "release": release_meta,
        "modality": "text",
        "size": {"documents": n_docs, "words": words, "characters": chars, "utf8_bytes": nbytes, "size_band": size_band(nbytes),
                 "band_basis": "UTF-8 bytes of the text, an upper bound of the token count"},
        "languages": langs,
        "collection_period": period,
        "top_domains": {"rule": "top 10% of registered domains by UTF-8 bytes of kept text (at least one)",
                        "domains_total": len(domains), "listed": listed,
                        "domains": [{"domain": d, "utf8_bytes": int(b), "documents": int(n)} for d, b, n in domains[:listed]]},
        "crawlers": sorted(crawlers.values(), key=lambda c: (-c["warc_files"], str(c["software"]))),
        "optout": {
            "measures": OPTOUT_MEASURES,
            "policy_versions": [r[0] for r in con.execute("SELECT DISTINCT policy_version FROM documents WHERE policy_version IS NOT NULL ORDER BY 1").fetchall()],
            "excluded": int(_scalar(con, f"SELECT count(*) FROM exclusions WHERE {OPTOUT_ROW}")),
            "excluded_by_signal": excluded_signals,
            "kept_with_signal": kept_signals,
            "train_eligible": eligible,
            "copyright_notices": notices(con),
        },
        "illegal_content": {"excluded_by_reason": _by(con, f"SELECT stage || '/' || reason, count(*) FROM exclusions WHERE stage IN {_in(ILLEGAL_STAGES)} GROUP BY 1 ORDER BY 1")},
        "pii": {"measures": PII_MEASURES, "masked": _pii_counts(con),
                "excluded_by_reason": _by(con, f"SELECT reason, count(*) FROM exclusions WHERE stage IN {_in(PII_STAGES)} GROUP BY 1 ORDER BY 1")},
        "excluded_by_reason": excluded,
    }


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join("" if v is None else str(v) for v in r) + " |" for r in rows]
    return out


def render_markdown(s: dict) -> str:
    """The summary laid out in the template's sections (only the parts a data pipeline can fill)."""
    r, z, p = s["release"], s["size"], s["collection_period"]
    lines = [f"# Public Summary of Training Content: release {r['release_id']} (version {r['version']})", "",
             f"Template: {s['template']}. Merkle root of the shards: `{r['merkle_root']}`; of the documents: `{r['documents_root']}`.", "",
             "## 1.3 Modalities, overall training data size and other characteristics", "",
             f"- Modality: {s['modality']}. Size band: **{z['size_band']}** ({z['band_basis']}).",
             f"- Size in other units: {z['documents']} documents, {z['words']} words, {z['characters']} characters, {z['utf8_bytes']} UTF-8 bytes.",
             f"- Latest date of data collection: {p['latest_capture']}.", "", "Languages (share of UTF-8 bytes):", ""]
    lines += _table(["language", "documents", "UTF-8 bytes", "share"], [[x["lang"], x["documents"], x["utf8_bytes"], f"{100 * x['share']:.4f} %"] for x in s["languages"]])
    t = s["top_domains"]
    lines += ["", "## 2.3 Data crawled and scraped from online sources", "",
              f"- Period of data collection: {p['start']} to {p['end']}.", "- Crawlers (from the warcinfo records of the input WARC files):", ""]
    lines += _table(["software", "user agent", "robots", "part of", "publisher", "WARC files"],
                    [[c["software"], c["user_agent"], c["robots"], c["is_part_of"], c["publisher"], c["warc_files"]] for c in s["crawlers"]])
    lines += ["", f"Most relevant domain names: {t['rule']}; {t['listed']} of {t['domains_total']} domains.", ""]
    lines += _table(["domain", "UTF-8 bytes", "documents"], [[d["domain"], d["utf8_bytes"], d["documents"]] for d in t["domains"]])
    o = s["optout"]
    lines += ["", "## 3.1 Respect of reservation of rights from the TDM exception", "", o["measures"], "",
              f"- Policy versions: {', '.join(o['policy_versions']) or 'none recorded'}.",
              f"- Records excluded for an opt-out (reservations honoured): {o['excluded']}; per signal: {_kv(o['excluded_by_signal'])}.",
              f"- Kept documents carrying an opt-out signal (kept as reserved, for inspection): {_kv(o['kept_with_signal'])}.",
              f"- Kept documents by train eligibility: {_kv(o['train_eligible'])}.", ""]
    n = o.get("copyright_notices")
    if n is not None:
        lines += ["Copyright notices, listed apart (not opt-outs, not counted above):", "", NOTICE_MEASURES, "",
                  f"- Kept documents with a copyright notice (not redistributed): {n['kept']}; by train eligibility: "
                  f"{_kv(n['kept_train_eligible'])}.",
                  f"- Records excluded for a copyright notice alone (policy choice): {n['excluded']}.", ""]
    lines += ["## 3.2 Removal of illegal content", "", f"- Excluded: {_kv(s['illegal_content']['excluded_by_reason'])}.", "",
              "## 3.3 Other information: personal data", "", s["pii"]["measures"], "",
              f"- Masked: {_kv(s['pii']['masked'])}. Excluded: {_kv(s['pii']['excluded_by_reason'])}.", "",
              "All exclusions by stage and reason:", ""]
    lines += _table(["stage/reason", "records"], [[k, v] for k, v in s["excluded_by_reason"].items()])
    return "\n".join(lines) + "\n"


def _kv(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"
