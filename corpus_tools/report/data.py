"""The numbers of the run report, computed once from a release's DuckDB views (`corpus_tools.release.store`).

`collect(con, ...)` returns a `ReportData`: `tables` (name -> list of flat rows, each written as
`reports/<name>.csv`) and `stats` (the `reports/stats.json` object, schema `STATS_SCHEMA`, documented in the
README). The page (`page.py`) draws only what is here, so every chart's numbers are in a CSV beside it, and
each table total carries the `corpus audit query` SQL that recounts it (`page.RECOUNT`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from corpus_tools.core.languages import OTHER, language_name, registry

STATS_SCHEMA = "corpus-report-stats/1"
# pipeline order of the ledger's stages; a stage not listed (a future one) follows, alphabetically
STAGE_ORDER = ("read", "signals", "extract", "lid", "rights", "quality", "pii", "dedup", "takedown")
POST_LID = ("rights", "quality", "pii", "dedup", "takedown")   # stages that see a document's language
SAMPLES_PER_LANG = 2
TOP_DOMAINS_PER_LANG = 5

# quality signal -> (threshold keys of language_ids/quality_thresholds.tsv, bin edges, log x)
_RATIO = [i / 20 for i in range(21)]
QUALITY_SIGNALS = {
    "n_words": (("min_doc_words", "max_doc_words"), [10 ** (k / 4) for k in range(0, 25)], True),
    "avg_word_length": (("min_avg_word_length", "max_avg_word_length"), [i / 2 for i in range(0, 31)], False),
    "alpha_words_ratio": (("min_alpha_words_ratio",), _RATIO, False),
    "stop_words": (("min_stop_words",), [10 ** (k / 4) for k in range(0, 21)], True),
    "end_ellipsis_lines_ratio": (("max_ellipsis_lines_ratio",), _RATIO, False),
    "bullet_lines_ratio": (("max_bullet_lines_ratio",), _RATIO, False),
    "line_punct_ratio": (("line_punct_thr",), _RATIO, False),
    "short_line_ratio": (("short_line_thr",), _RATIO, False),
    "char_dup_ratio": (("char_dup_ratio",), _RATIO, False),
    "dup_line_frac": (("dup_line_frac",), _RATIO, False),
    "dup_para_frac": (("dup_para_frac",), _RATIO, False),
    "top_2_gram_frac": (("top_2_gram_frac",), _RATIO, False),
}

@dataclass
class ReportData:
    tables: dict[str, list[dict]] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _cols(con, view: str) -> set[str]:
    return {r[0] for r in _rows(con, f"SELECT column_name FROM (DESCRIBE {view})")}


def stage_rank(stage: str) -> tuple:
    return (STAGE_ORDER.index(stage), "") if stage in STAGE_ORDER else (len(STAGE_ORDER), stage)


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def languages(con) -> list[dict]:
    """Every target language (also the empty ones) and any other label the shards hold: documents, words,
    bytes, shares, documents the language-aware stages removed, dedup rate."""
    kept = {r[0]: r[1:] for r in _rows(con, "SELECT lang, count(*), coalesce(sum(n_words), 0), "
                                            "coalesce(sum(strlen(text)), 0) FROM documents GROUP BY 1")}
    removed: dict[str, dict[str, int]] = {}
    for lang, stage, n in _rows(con, "SELECT lang, stage, count(*) FROM exclusions WHERE lang IS NOT NULL "
                                     f"AND lang <> '{OTHER}' AND stage IN ({', '.join(map(_q, POST_LID))}) GROUP BY 1, 2"):
        removed.setdefault(lang, {})[stage] = n
    labels = list(registry()) + sorted(set(kept) - set(registry()), key=str)
    labels += sorted(set(removed) - set(labels))
    tot_docs = sum(v[0] for v in kept.values()) or 1
    tot_words = sum(v[1] for v in kept.values()) or 1
    tot_bytes = sum(v[2] for v in kept.values()) or 1
    out = []
    for lab in labels:
        docs, words, nbytes = kept.get(lab, (0, 0, 0))
        rem = removed.get(lab, {})
        lang = registry().get(lab)
        row = {"lang": lab, "name": language_name(lab) if lab != OTHER else "other (keep_other)",
               "status": lang.status if lang else ("kept_other" if lab == OTHER else "not_in_registry"),
               "documents": docs, "words": int(words), "bytes": int(nbytes),
               "share_documents": docs / tot_docs, "share_words": words / tot_words, "share_bytes": nbytes / tot_bytes,
               "identified": docs + sum(rem.values())}
        for s in POST_LID:
            row[f"removed_{s}"] = rem.get(s, 0)
        before_dedup = docs + rem.get("dedup", 0)
        row["dedup_rate"] = rem.get("dedup", 0) / before_dedup if before_dedup else None
        out.append(row)
    return sorted(out, key=lambda r: (-r["documents"], -r["identified"], r["lang"]))


def removals(con) -> list[dict]:
    """Ledger rows per stage and reason (pipeline order), with the language when the stage knew it."""
    rows = _rows(con, "SELECT stage, reason, CASE WHEN lang IS NULL OR lang = 'other' THEN '' ELSE lang END, count(*) "
                      "FROM exclusions GROUP BY 1, 2, 3")
    out = [{"stage": s, "reason": r, "lang": lang, "records": n} for s, r, lang, n in rows]
    return sorted(out, key=lambda r: (stage_rank(r["stage"]), -r["records"], r["reason"], r["lang"]))


def funnel(langs: list[dict]) -> list[dict]:
    """Per language: identified -> after each language-aware stage -> kept (long format)."""
    out = []
    for r in langs:
        if not r["identified"]:
            continue
        left = r["identified"]
        out.append({"lang": r["lang"], "step": "identified", "documents": left})
        for s in POST_LID:
            left -= r[f"removed_{s}"]
            out.append({"lang": r["lang"], "step": f"after_{s}", "documents": left})
    return out


def quality(con, thresholds: dict) -> list[dict]:
    """Histogram bins per language and signal: kept documents (their stored `quality` signals) and ledger rows
    whose failing signal it is (`evidence.measured`); the language's thresholds beside them."""
    if "quality" not in _cols(con, "documents"):
        return []
    names = list(QUALITY_SIGNALS)
    sel = ", ".join(f"list(quality.{n}) FILTER (WHERE quality.{n} IS NOT NULL)" for n in names)
    kept = {r[0]: dict(zip(names, r[1:])) for r in _rows(con, f"SELECT lang, {sel} FROM documents GROUP BY 1")}
    excl: dict[tuple[str, str], list[float]] = {}
    for lang, sig, vals in _rows(con, "SELECT lang, json_extract_string(evidence, '$.signal'), "
                                      "list(CAST(json_extract(evidence, '$.measured') AS DOUBLE)) FROM exclusions "
                                      "WHERE stage = 'quality' AND json_valid(evidence) GROUP BY 1, 2"):
        excl[(lang, sig)] = [v for v in vals if v is not None]
    out = []
    for lang in sorted(set(kept) | {k[0] for k in excl}, key=str):
        thr = thresholds.get(lang)
        for sig, (keys, edges, _) in QUALITY_SIGNALS.items():
            k_vals, e_vals = kept.get(lang, {}).get(sig) or [], excl.get((lang, sig), [])
            if not k_vals and not e_vals:
                continue
            hk, he = _bin(k_vals, edges), _bin(e_vals, edges)
            limits = {k: getattr(thr, k, None) for k in keys} if thr else {}
            for i in range(len(edges) - 1):
                out.append({"lang": lang, "signal": sig, "bin_lo": edges[i], "bin_hi": edges[i + 1],
                            "kept": hk[i], "excluded": he[i],
                            "thresholds": json.dumps({k: v for k, v in limits.items() if v is not None}, sort_keys=True)})
    return out


def _bin(values: list[float], edges: list[float]) -> list[int]:
    """Counts per bin; values outside the edges go to the first or last bin (said in the caption)."""
    import bisect

    counts = [0] * (len(edges) - 1)
    for v in values:
        counts[min(max(bisect.bisect_right(edges, v) - 1, 0), len(counts) - 1)] += 1
    return counts


def lid_scores(con, lid_thresholds: dict) -> list[dict]:
    """Kept documents' `lang_score` per language, and the ledger's below-threshold rows under their top label."""
    out = [{"lang": lang, "outcome": "kept", "score": float(s), "threshold": lid_thresholds.get(lang)}
           for lang, s in _rows(con, "SELECT lang, lang_score FROM documents WHERE lang_score IS NOT NULL ORDER BY 1, 2")]
    for lang, s in _rows(con, "SELECT json_extract_string(evidence, '$.label'), CAST(json_extract(evidence, '$.score') AS DOUBLE) "
                              "FROM exclusions WHERE stage = 'lid' AND reason = 'below_lid_threshold' AND json_valid(evidence) "
                              "ORDER BY 1, 2"):
        if lang and s is not None:
            out.append({"lang": lang, "outcome": "below_lid_threshold", "score": s, "threshold": lid_thresholds.get(lang)})
    return out


def non_target(con) -> list[dict]:
    """LID ledger rows by the label the evidence names: the first backend's own top label for a non-target
    language (the stacker's label there is `other`), the stacker's top label for one below its threshold."""
    rows = _rows(con, """
        SELECT reason,
               CASE WHEN reason = 'non_target_language'
                    THEN coalesce(json_extract_string(evidence, '$.backend_top.lid176[0]'),
                                  json_extract_string(evidence, '$.backend_top.py3langid[0]'),
                                  json_extract_string(evidence, '$.label'), '?')
                    ELSE coalesce(json_extract_string(evidence, '$.label'), '?') END AS label,
               count(*), string_agg(DISTINCT domain, ' ' ORDER BY domain) FILTER (WHERE domain IS NOT NULL)
        FROM exclusions WHERE stage = 'lid' GROUP BY 1, 2""")
    out = [{"reason": r, "label": lab, "name": language_name(lab), "records": n,
            "domains": " ".join((d or "").split()[:3])} for r, lab, n, d in rows]
    return sorted(out, key=lambda r: (-r["records"], r["reason"], r["label"]))


def crawl_dates(con) -> list[dict]:
    """Kept documents and ledger rows per capture month (per year when the crawl spans more than 10 years)."""
    span = _rows(con, "SELECT min(d), max(d) FROM (SELECT warc_date d FROM documents UNION ALL SELECT warc_date FROM exclusions)")[0]
    unit = "year" if span[0] and (span[1] - span[0]).days > 3660 else "month"
    form = "%Y" if unit == "year" else "%Y-%m"
    rows = _rows(con, f"""
        SELECT coalesce(strftime(date_trunc('{unit}', warc_date), '{form}'), '(no date)') AS p,
               count(*) FILTER (WHERE kept), count(*) FILTER (WHERE NOT kept)
        FROM (SELECT warc_date, true AS kept FROM documents UNION ALL SELECT warc_date, false FROM exclusions)
        GROUP BY 1 ORDER BY 1""")
    return [{"period": p, "unit": unit, "kept": k, "excluded": e} for p, k, e in rows]


_SUFFIX = ("CASE WHEN domain IS NULL THEN '(no domain)' WHEN strpos(domain, '.') = 0 THEN domain "
           "ELSE substr(domain, strpos(domain, '.') + 1) END")


def tlds(con) -> list[dict]:
    """Kept documents and text bytes per public suffix of the registered domain (`co.uk`, `de`)."""
    rows = _rows(con, f"SELECT {_SUFFIX}, count(*), coalesce(sum(strlen(text)), 0) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1")
    return [{"suffix": s, "documents": n, "bytes": int(b)} for s, n, b in rows]


def top_domains(con) -> list[dict]:
    rows = _rows(con, f"""
        SELECT lang, domain, n, b, rk FROM (
            SELECT *, row_number() OVER (PARTITION BY lang ORDER BY n DESC, b DESC, domain) AS rk FROM (
                SELECT lang, coalesce(domain, '(no domain)') AS domain, count(*) AS n, coalesce(sum(strlen(text)), 0) AS b
                FROM documents GROUP BY 1, 2))
        WHERE rk <= {TOP_DOMAINS_PER_LANG} ORDER BY 1, 5""")
    return [{"lang": lang, "rank": rk, "domain": d, "documents": n, "bytes": int(b)} for lang, d, n, b, rk in rows]


def samples(con) -> list[dict]:
    """A few kept documents per language, picked by smallest id (ids are hashes, so this is an arbitrary but
    stable pick), with the start of their text."""
    rows = _rows(con, f"""
        SELECT lang, id, url, title, left(text, 300), n_words FROM (
            SELECT *, row_number() OVER (PARTITION BY lang ORDER BY id) AS rk FROM documents)
        WHERE rk <= {SAMPLES_PER_LANG} ORDER BY 1, 2""")
    return [{"lang": lang, "id": i, "url": u, "title": t or "", "text_start": " ".join((x or "").split())[:240],
             "words": w} for lang, i, u, t, x, w in rows]


def rights(con) -> dict[str, list[dict]]:
    from corpus_tools.release.summary import notices, optout_signals

    red = _rows(con, "SELECT coalesce(redistribution, 'unknown'), count(*), "
                     "count(*) FILTER (WHERE train_eligible IS NOT FALSE) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1")
    lic = _rows(con, "SELECT licence, count(*) FROM documents WHERE licence IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1")
    kept, excluded = optout_signals(con, prefix=False)
    n = notices(con)
    optouts = [{"signal": s, "kept_reserved": kept.get(s, 0), "excluded": excluded.get(s, 0)}
               for s in sorted(set(kept) | set(excluded))]
    notice_rows = [{"outcome": f"kept, not redistributable, {'trainable' if t == 'true' else 'not trainable (policy)' if t == 'false' else 'train_eligible unknown'}",
                    "documents": c} for t, c in sorted(n["kept_train_eligible"].items(), key=lambda kv: kv[0] != "true")]
    if n["excluded"]:
        notice_rows.append({"outcome": "excluded (policy drops notice pages)", "documents": n["excluded"]})
    return {"redistribution": [{"class": c, "documents": d, "train_eligible": t} for c, d, t in red],
            "licences": [{"licence": c, "documents": d} for c, d in lic],
            "optouts": optouts, "notices": notice_rows}


def dedup_clusters(con) -> list[dict]:
    rows = _rows(con, "SELECT coalesce(dup_cluster_size, 1), count(*) FROM documents GROUP BY 1 ORDER BY 1")
    return [{"cluster_size": s, "kept_documents": n} for s, n in rows]


_ROUND = re.compile(r"^dedup_clusters_r(\d+)$")
_PHASES = {"docs": 0, "dedup_signatures": 1, "dedup_buckets": 2, "dedup_clusters": 3, "dedup_clusters_out": 5,
           "dedup_filter": 6, "merge_revived": 8, "release": 9}


def phase_rank(phase: str) -> tuple:
    """Pipeline order of a phase folder in logs/ (docs, dedup_*, revived_* of a restage, release)."""
    base = phase.removeprefix("revived_")
    m = _ROUND.match(base)
    rank = 4 + int(m.group(1)) / 1000 if m else _PHASES.get(base, 7.9)
    if base != phase:
        rank = 7 + rank / 10
    return rank, phase


def _documents_in(counts: dict) -> int | None:
    """Documents a step received, from its counters: the reader's records, a dedup step's documents, or
    what a filter passed or a writer kept plus what it excluded."""
    for key in ("records_read", "documents"):
        if counts.get(key):
            return counts[key]
    for key in ("passed", "kept"):
        if key in counts:
            return counts[key] + counts.get("excluded", 0)
    return None


def costs(stats_by_phase: dict[str, list], warc_bytes: int, wall_s: float | None) -> list[dict]:
    """CPU seconds, documents in, seconds per 1,000 documents, per GB of WARC and documents/s, per step in
    pipeline order. The reader's timer covers opening each file only (reading runs between the other steps'
    timers), so its cost is `timed=false`."""
    out = []
    for phase in sorted(stats_by_phase, key=phase_rank):
        for step in stats_by_phase[phase]:
            timing = step.get("time_stats") or {}
            seconds = float(timing.get("total", 0) or 0) if isinstance(timing, dict) else float(timing or 0)
            counts = {k: (v.get("total") if isinstance(v, dict) else v) for k, v in (step.get("stats") or {}).items()}
            docs = _documents_in(counts)
            name = step["name"]
            timed = not name.startswith("reader:")
            out.append({
                "phase": phase, "step": name.split(": ", 1)[-1], "timed": timed, "cpu_s": seconds if timed else None,
                "documents": docs,
                "s_per_1000_docs": seconds / docs * 1000 if timed and docs else None,
                "s_per_gb_warc": seconds / (warc_bytes / 1e9) if timed and warc_bytes else None,
                "docs_per_s": docs / seconds if timed and docs and seconds else None,
            })
    return out


def collect(con, summary: dict, release_meta: dict | None, thresholds: dict, thresholds_source: str,
            lid_thresholds: dict, stats_by_phase: dict, warc_bytes: int, lineage: dict | None) -> ReportData:
    d = ReportData()
    t = d.tables
    t["languages"] = languages(con)
    t["removals"] = removals(con)
    t["funnel"] = funnel(t["languages"])
    t["quality_signals"] = quality(con, thresholds)
    t["lid_scores"] = lid_scores(con, lid_thresholds)
    t["non_target"] = non_target(con)
    t["crawl_dates"] = crawl_dates(con)
    t["tlds"] = tlds(con)
    t["top_domains"] = top_domains(con)
    t["samples"] = samples(con)
    for k, v in rights(con).items():
        t[k] = v
    t["dedup_clusters"] = dedup_clusters(con)
    t["cost"] = costs(stats_by_phase, warc_bytes, summary.get("wall_s"))
    if lineage and lineage.get("languages"):
        t["lineage_languages"] = lineage["languages"]
    langs = t["languages"]
    totals = {"documents": sum(r["documents"] for r in langs), "words": sum(r["words"] for r in langs),
              "bytes": sum(r["bytes"] for r in langs), "excluded": sum(r["records"] for r in t["removals"]),
              "removed_by_stage": {}}
    for r in t["removals"]:
        totals["removed_by_stage"][r["stage"]] = totals["removed_by_stage"].get(r["stage"], 0) + r["records"]
    rel = release_meta or {}
    d.stats = {
        "schema": STATS_SCHEMA,
        "run": {k: summary.get(k) for k in ("run_id", "pipeline", "pipeline_version", "records_read", "documents_kept",
                                            "records_excluded", "conservation_ok", "wall_s")} | {"inputs": len(summary.get("inputs", []))},
        "release": {k: rel.get(k) for k in ("release_id", "version", "merkle_root", "documents_root")},
        "lineage": {k: v for k, v in (lineage or {}).items() if k != "languages"} or None,
        "totals": totals,
        "quality_thresholds": thresholds_source,
        "tables": {name: {"csv": f"{name}.csv", "rows": len(rows)} for name, rows in t.items()},
        "languages": langs,
        "removals": t["removals"],
        "non_target": t["non_target"],
        "rights": {k: t[k] for k in ("redistribution", "licences", "optouts", "notices")},
        "crawl_dates": t["crawl_dates"],
        "tlds": t["tlds"],
        "cost": t["cost"],
    }
    return d


def finite(v):
    """JSON-safe: NaN and infinities become null."""
    return None if isinstance(v, float) and not math.isfinite(v) else v
