"""The run report's HTML: sections in the order a data engineer asks (languages first), sortable tables, and
the inline-SVG charts of `svg.py`, all drawn from a `ReportData` (`data.py`).

Each table total cell carries `data-recount`: the `corpus audit query` SQL that recounts it from the release
(the browser test runs every one), or `data-source` when it comes from the run's logs instead.
"""

from __future__ import annotations

import json
from html import escape

from corpus_tools.core.languages import language_name
from corpus_tools.report import svg
from corpus_tools.report.data import POST_LID, QUALITY_SIGNALS, ReportData, stage_rank

POST_SQL = ", ".join(f"'{s}'" for s in POST_LID)
TARGET_ROWS = f"stage IN ({POST_SQL}) AND lang IS NOT NULL AND lang <> 'other'"
RECOUNT = {
    "documents": "SELECT count(*) FROM documents",
    "words": "SELECT coalesce(sum(n_words), 0) FROM documents",
    "bytes": "SELECT coalesce(sum(strlen(text)), 0) FROM documents",
    "identified": f"SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM exclusions WHERE {TARGET_ROWS})",
    "removed": "SELECT count(*) FROM exclusions WHERE stage = '{stage}' AND lang IS NOT NULL AND lang <> 'other'",
    "records": "SELECT count(*) FROM exclusions",
    "lid": "SELECT count(*) FROM exclusions WHERE stage = 'lid'",
    "licensed": "SELECT count(*) FROM documents WHERE licence IS NOT NULL",
    "trainable": "SELECT count(*) FROM documents WHERE train_eligible IS NOT FALSE",
    "kept_period": "SELECT count(*) FROM documents",
    "excluded_period": "SELECT count(*) FROM exclusions",
}

JS = """
document.querySelectorAll('table.sortable th').forEach((th, i) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
  const num = th.dataset.kind === 'num', dir = th.dataset.dir === 'desc' ? 1 : -1;
  th.closest('tr').querySelectorAll('th').forEach(h => delete h.dataset.dir);
  th.dataset.dir = dir === 1 ? 'asc' : 'desc';
  const key = r => { const c = r.cells[i]; const v = c.dataset.v ?? c.textContent; return num ? parseFloat(v) || 0 : v; };
  rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * dir);
  rows.forEach(r => body.appendChild(r));
}));
const pick = document.getElementById('quality-lang');
if (pick) {
  const show = () => document.querySelectorAll('[data-quality-lang]').forEach(d => d.hidden = d.dataset.qualityLang !== pick.value);
  pick.addEventListener('change', show); show();
}
"""

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; } .caption, figcaption { color: #555; font-size: 0.9em; }
svg.chart { max-width: 100%; height: auto; display: block; margin: 0.6em 0; }
.scroll { max-width: 100%; overflow-x: auto; } table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 0.15em 0.5em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; cursor: pointer; } td.t, th.t { text-align: left; } tfoot td { font-weight: 600; background: #fafafa; }
tr.empty td { color: #999; } code { font-size: 0.95em; } td.cmd code { white-space: nowrap; font-size: 0.85em; }
td.snip { max-width: 32em; text-align: left; overflow-wrap: anywhere; } td.url { max-width: 18em; overflow-wrap: anywhere; text-align: left; }
.totals span { display: inline-block; margin-right: 2em; font-size: 1.05em; } nav a { margin-right: 1em; }
.sample { border-top: 1px solid #eee; padding: 0.3em 0; font-size: 0.85em; overflow-wrap: anywhere; }
.sample p { margin: 0.2em 0; color: #333; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.sample .url { color: #555; } .sample code { font-size: 0.9em; color: #444; }
.lineage { background: #fff8e6; border: 1px solid #e8c36a; padding: 0.5em 1em; }
"""

# (field, header, kind): kind num = right-aligned number, pct = share, t = text
Column = tuple[str, str, str]


def _cell(v, kind: str) -> str:
    if kind == "pct":
        return f'<td data-v="{v if v is not None else -1}">{"–" if v is None else f"{v:.1%}"}</td>'
    if kind == "num":
        shown = "–" if v is None else (f"{v:,}" if float(v).is_integer() else f"{v:,.3g}" if abs(v) < 1 else f"{v:,.2f}")
        return f'<td data-v="{v if v is not None else -1}">{shown}</td>'
    if kind == "cmd":
        return f'<td class="t cmd"><code>{escape(str(v))}</code></td>'
    cls = {"snip": "snip", "url": "url"}.get(kind, "t")
    return f'<td class="{cls}">{escape("" if v is None else str(v))}</td>'


def table(key: str, columns: list[Column], rows: list[dict], foot: list[list] | None = None,
          row_class=None) -> str:
    """A sortable table; `foot` rows are lists of cells: a str (label) or (value, recount SQL or None, source)."""
    head = "".join(f'<th class="{"t" if k not in ("num", "pct") else ""}" data-kind="{"num" if k in ("num", "pct") else "t"}">'
                   f"{escape(h)}</th>" for _, h, k in columns)
    body = "".join(f'<tr{f" class={chr(34)}{row_class(r)}{chr(34)}" if row_class and row_class(r) else ""}>'
                   + "".join(_cell(r.get(f), k) for f, _, k in columns) + "</tr>" for r in rows)
    tfoot = ""
    for frow in foot or []:
        cells = []
        for (f, _, k), c in zip(columns, frow):
            if isinstance(c, tuple):
                value, sql, source = c
                attrs = f' data-col="{f}" data-total="{value}"'
                attrs += f' data-recount="{escape(sql)}" title="recount: corpus audit query OUT &quot;{escape(sql)}&quot;"' if sql else ""
                attrs += f' data-source="{escape(source)}"' if source else ""
                cells.append(f'<td{attrs}>{value:,}</td>' if isinstance(value, int) else f"<td{attrs}>{value:,.2f}</td>")
            else:
                cells.append(f'<td class="t">{escape(str(c or ""))}</td>')
        tfoot += "<tr>" + "".join(cells) + "</tr>"
    return (f'<div class="scroll"><table class="sortable" data-table="{key}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody>" + (f"<tfoot>{tfoot}</tfoot>" if tfoot else "") + "</table></div>")


def _label(lang: str) -> str:
    name = language_name(lang)
    return f"{name} ({lang})" if name != lang else lang


def _figure(key: str, chart: str, caption: str) -> str:
    return f'<figure data-chart="{key}">{chart}<figcaption>{caption}</figcaption></figure>'


def section_languages(d: ReportData) -> str:
    langs = d.tables["languages"]
    stages = [s for s in POST_LID if any(r[f"removed_{s}"] for r in langs) or s in ("quality", "dedup")]
    cols: list[Column] = [("lang", "label", "t"), ("name", "language", "t"), ("status", "status", "t"),
                          ("documents", "documents", "num"), ("words", "words", "num"), ("bytes", "bytes", "num"),
                          ("share_documents", "share of documents", "pct"), ("share_words", "share of words", "pct"),
                          ("identified", "identified by LID", "num")]
    cols += [(f"removed_{s}", f"removed: {s}", "num") for s in stages] + [("dedup_rate", "dedup rate", "pct")]
    tot = {f: sum(r[f] for r in langs) for f in ("documents", "words", "bytes", "identified")}
    foot = ["total", "", ""] + [(tot["documents"], RECOUNT["documents"], None), (tot["words"], RECOUNT["words"], None),
                                (tot["bytes"], RECOUNT["bytes"], None), "", "", (tot["identified"], RECOUNT["identified"], None)]
    foot += [(sum(r[f"removed_{s}"] for r in langs), RECOUNT["removed"].format(stage=s), None) for s in stages] + [""]
    shown = [r for r in langs if r["documents"]]
    n_empty = sum(1 for r in langs if not r["identified"])
    docs = svg.hbar([(_label(r["lang"]), r["documents"]) for r in shown], "kept documents", svg.BLUE)
    words = svg.hbar([(_label(r["lang"]), r["words"]) for r in shown], "words of kept documents", svg.GREEN)
    return (f'<h2 id="languages">Languages</h2><p class="caption">Every target language of language_ids/registry.tsv, '
            f"also the {n_empty} with no document in this run (greyed). Click a column to sort. <i>identified</i>: documents "
            "LID gave this label; <i>removed</i>: those a later stage then excluded; <i>dedup rate</i>: duplicates removed / "
            "(kept + duplicates removed). Bytes: UTF-8 text. Data: languages.csv.</p>"
            + table("languages", cols, langs, [foot], row_class=lambda r: "empty" if not r["identified"] else "")
            + _figure("languages", docs, f"Kept documents per language ({len(shown)} languages with documents; "
                      "log axis when counts span more than 100x).")
            + _figure("words", words, "Words per language (the tokenizer of each language's quality row)."))


def section_funnel(d: ReportData, summary: dict) -> str:
    rem = d.tables["removals"]
    by_reason: dict[tuple[str, str], int] = {}
    for r in rem:
        by_reason[(r["stage"], r["reason"])] = by_reason.get((r["stage"], r["reason"]), 0) + r["records"]
    kept = sum(r["documents"] for r in d.tables["languages"])
    bars = [(f"{s} / {reason}", n) for (s, reason), n in sorted(by_reason.items(), key=lambda kv: (stage_rank(kv[0][0]), -kv[1]))]
    bars.append(("kept", kept))
    langs = [r for r in d.tables["languages"] if r["identified"]]
    stages = [s for s in POST_LID if any(r[f"removed_{s}"] for r in langs)]
    parts = ["kept"] + [f"removed: {s}" for s in stages]
    colours = [svg.BLUE, svg.PURPLE, svg.RED, svg.ORANGE, svg.GREY, "#333"][: len(parts)]
    stacked = svg.stacked([(_label(r["lang"]), [r["documents"]] + [r[f"removed_{s}"] for s in stages]) for r in langs],
                          parts, colours, "share of the documents LID gave the language")
    pre = [(s, sum(n for (st, _), n in by_reason.items() if st == s)) for s in sorted({s for s, _ in by_reason}, key=stage_rank)
           if s not in POST_LID]
    read = summary.get("records_read")
    flow = [{"stage": s, "reason": reason, "records": n} for (s, reason), n in sorted(by_reason.items(), key=lambda kv: (stage_rank(kv[0][0]), -kv[1]))]
    foot = [["total excluded", "", (sum(by_reason.values()), RECOUNT["records"], None)]]
    return ('<h2 id="funnel">Where the records went</h2>'
            + _figure("funnel", svg.hbar(bars, "records", svg.RED),
                      (f"{read:,} records read; " if isinstance(read, int) else "") + "each ends kept or as one ledger row with "
                      "its stage and reason, in pipeline order. Before a language is known: "
                      + (", ".join(f"{s} {n:,}" for s, n in pre) or "nothing") + ". Data: removals.csv (also per language).")
            + table("removals", [("stage", "stage", "t"), ("reason", "reason", "t"), ("records", "records", "num")], flow, foot)
            + "<h3>Funnel per language</h3>"
            + _figure("funnel_languages", stacked, "Of the documents LID gave each language (n), the share each later stage "
                      "removed and the share kept. Data: funnel.csv (identified, then after each stage)."))


def section_quality(d: ReportData, thresholds_source: str) -> str:
    rows = d.tables["quality_signals"]
    if not rows:
        return '<h2 id="quality">Quality signals</h2><p class="caption">No quality signals in this release.</p>'
    order = [r["lang"] for r in d.tables["languages"]]
    langs = sorted({r["lang"] for r in rows}, key=lambda lab: (order.index(lab) if lab in order else len(order), lab))
    opts = "".join(f'<option value="{escape(lab)}">{escape(_label(lab))}</option>' for lab in langs)
    grouped: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        grouped.setdefault((r["lang"], r["signal"]), []).append(r)
    blocks = []
    for lang in langs:
        panels = []
        for sig, (keys, _, log_x) in QUALITY_SIGNALS.items():
            bins = grouped.get((lang, sig))
            if not bins:
                continue
            kept, excl = [b["kept"] for b in bins], [b["excluded"] for b in bins]
            thr = json.loads(bins[0]["thresholds"])
            n = f"n = {sum(kept) + sum(excl):,}: {sum(kept):,} kept" + (f", {sum(excl):,} excluded" if sum(excl) else "")
            panels.append(svg.Panel(sig, n, [bins[0]["bin_lo"]] + [b["bin_hi"] for b in bins],
                                    kept, excl, [(v, k) for k, v in thr.items()], log_x))
        blocks.append(f'<div data-quality-lang="{escape(lang)}"><h3>{escape(_label(lang))}</h3>'
                      + svg.histograms(panels, title=f"quality signals of {lang}") + "</div>")
    return ('<h2 id="quality">Quality signals and thresholds</h2><p class="caption">Per language: blue = kept documents '
            "(their stored <code>quality</code> signals), red = documents excluded <i>for this signal</i> (the ledger's "
            "<code>evidence.measured</code>; a document excluded for another signal has no value here). Dashed line = the "
            f"language's threshold from {escape(thresholds_source)}. Values beyond the axis are counted in the end bins. "
            f'Data: quality_signals.csv.</p><p><label>language <select id="quality-lang">{opts}</select></label></p>'
            + _figure("quality", "".join(blocks), "Histograms of every quality signal with a threshold; log y when counts "
                      "span more than 100x."))


def section_lid(d: ReportData) -> str:
    by: dict[str, tuple[list, list, float | None]] = {}
    for r in d.tables["lid_scores"]:
        k, e, _ = by.setdefault(r["lang"], ([], [], r["threshold"]))
        (k if r["outcome"] == "kept" else e).append(r["score"])
    order = [r["lang"] for r in d.tables["languages"]]
    labs = sorted(by, key=lambda lab: (order.index(lab) if lab in order else len(order), lab))
    chart = svg.strips([(_label(lab), *by[lab]) for lab in labs], "language-ID score of the label (stacker posterior)")
    nt = d.tables["non_target"]
    return ('<h2 id="lid">Language identification</h2>'
            + _figure("lid", chart, "Each dot a kept document, a box the quartiles once n >= 5, a red cross a document "
                      "excluded below the threshold (under its top label), the black tick the label's threshold "
                      "(language_ids/lid_thresholds.tsv). The threshold applies to the posterior of the label's confusable "
                      "group, which is at least the label's own score, so a dot left of the tick can be kept on its group "
                      "or on a confident backend (flag backend_confident). Data: lid_scores.csv.")
            + "<h3>What LID sent away</h3><p class=\"caption\">Ledger rows of stage lid by the label the evidence names: "
              "for <code>non_target_language</code> the first backend's own label (lid.176; the stacker's label there is "
              "<code>other</code>), for <code>below_lid_threshold</code> the stacker's top target label. Data: non_target.csv.</p>"
            + table("non_target", [("label", "label", "t"), ("name", "language", "t"), ("reason", "reason", "t"),
                                   ("records", "records", "num"), ("domains", "example domains", "t")], nt,
                    [["total", "", "", (sum(r["records"] for r in nt), RECOUNT["lid"], None), ""]]))


def section_dates_tlds(d: ReportData) -> str:
    dates = d.tables["crawl_dates"]
    unit = dates[0]["unit"] if dates else "month"
    chart = svg.columns([r["period"] for r in dates], [("kept", [r["kept"] for r in dates], svg.BLUE),
                                                        ("excluded", [r["excluded"] for r in dates], svg.RED)], "records")
    tl = d.tables["tlds"]
    top = tl[:30]
    return ('<h2 id="dates">Crawl dates and domains</h2>'
            + _figure("dates", chart, f"Records per capture {unit} (WARC-Date, UTC): kept documents and ledger rows, "
                      f"n = {sum(r['kept'] + r['excluded'] for r in dates):,}. Data: crawl_dates.csv.")
            + table("crawl_dates", [("period", unit, "t"), ("kept", "kept documents", "num"), ("excluded", "ledger rows", "num")],
                    dates, [["total", (sum(r["kept"] for r in dates), RECOUNT["kept_period"], None),
                             (sum(r["excluded"] for r in dates), RECOUNT["excluded_period"], None)]])
            + _figure("tlds", svg.hbar([(r["suffix"], r["documents"]) for r in top], "kept documents", svg.PURPLE),
                      f"Kept documents per public suffix of the registered domain ({len(top)} of {len(tl)} suffixes; "
                      f"n = {sum(r['documents'] for r in tl):,}). Data: tlds.csv."))


def section_domains(d: ReportData) -> str:
    tops = d.tables["top_domains"]
    overall: dict[str, int] = {}
    for r in tops:
        overall[r["domain"]] = overall.get(r["domain"], 0) + r["documents"]
    bars = sorted(overall.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    rows = [{**r, "language": _label(r["lang"])} for r in tops]
    return ('<h3 id="domains">Top domains per language</h3>'
            + _figure("domains", svg.hbar(bars, "kept documents", svg.BLUE),
                      "The 20 domains with most kept documents among each language's top "
                      f"{max([r['rank'] for r in tops] or [0])}. Data: top_domains.csv.")
            + f"<details><summary>top domains of every language ({len(rows)} rows)</summary>"
            + table("top_domains", [("language", "language", "t"), ("rank", "rank", "num"), ("domain", "domain", "t"),
                                    ("documents", "documents", "num"), ("bytes", "bytes", "num")], rows) + "</details>")


def section_samples(d: ReportData, release_url: str) -> str:
    cards = "".join(
        f'<div class="sample" data-lang="{escape(r["lang"])}"><b>{escape(_label(r["lang"]))}</b> · {escape(r["title"])} · '
        f'<span class="url">{escape(r["url"] or "")}</span> · {r["words"] or 0:,} words'
        f'<p dir="auto">{escape(r["text_start"])}</p><code>corpus audit trace {escape(release_url)} {escape(r["id"])}</code></div>'
        for r in d.tables["samples"])
    return ('<h2 id="samples">Sample documents</h2><p class="caption">The kept documents with the smallest ids of each '
            "language (ids are hashes: an arbitrary, stable pick), the start of their text, and the command that traces "
            "one to its WARC record and every stage's decision. Data: samples.csv.</p>" + cards)


def section_rights(d: ReportData) -> str:
    t = d.tables
    red, lic, opt, notes = t["redistribution"], t["licences"], t["optouts"], t["notices"]
    n_docs = sum(r["documents"] for r in red)
    opt_bars = [(f"{r['signal']} (kept, reserved)", r["kept_reserved"]) for r in opt if r["kept_reserved"]]
    opt_bars += [(f"{r['signal']} (excluded)", r["excluded"]) for r in opt if r["excluded"]]
    return ('<h2 id="rights">Rights, licences and opt-outs</h2>'
            + table("redistribution", [("class", "redistribution class", "t"), ("documents", "documents", "num"),
                                       ("train_eligible", "of them train_eligible", "num")], red,
                    [["total", (n_docs, RECOUNT["documents"], None), (sum(r["train_eligible"] for r in red), RECOUNT["trainable"], None)]])
            + _figure("licences", svg.hbar([(r["licence"], r["documents"]) for r in lic[:20]], "kept documents", "#ef5675",
                                           empty="(no licence detected)"),
                      f"Detected licences of kept documents ({sum(r['documents'] for r in lic):,} of {n_docs:,} documents carry one). "
                      "Data: licences.csv, redistribution.csv.")
            + table("licences", [("licence", "licence", "t"), ("documents", "documents", "num")], lic,
                    [["total", (sum(r["documents"] for r in lic), RECOUNT["licensed"], None)]])
            + _figure("optout", svg.hbar(opt_bars, "documents", svg.ORANGE, empty="(no machine-readable opt-out in this run)"),
                      "Machine-readable TDM or AI-training opt-outs per signal (TDMRep, robots.txt, noai, Content-Usage, "
                      "Content-Signal): kept in the reserved class, or excluded when the policy drops them. A document with "
                      "two signals counts under both. Data: optouts.csv.")
            + '<h3>Copyright notices (not an opt-out)</h3><p class="caption">An "all rights reserved" notice is not a '
              "reservation by machine-readable means (DSM Art. 4(3)): such pages are never redistributed (class reserved) "
              "and stay trainable unless the policy says otherwise. Data: notices.csv.</p>"
            + table("notices", [("outcome", "copyright-notice pages", "t"), ("documents", "documents", "num")], notes))


def section_dedup(d: ReportData) -> str:
    rows = d.tables["dedup_clusters"]
    removed = sum(r["removed_dedup"] for r in d.tables["languages"])
    return ('<h2 id="dedup">Duplicates</h2>'
            + _figure("dedup", svg.hbar([(f"cluster of {r['cluster_size']}", r["kept_documents"]) for r in rows],
                                        "kept documents", "#2f7f6f"),
                      f"Kept documents by the size of the duplicate cluster they represent (1 = unique; n = "
                      f"{sum(r['kept_documents'] for r in rows):,}); {removed:,} "
                      "duplicates removed (per language: the languages table). Data: dedup_clusters.csv."))


def section_cost(d: ReportData, summary: dict) -> str:
    costs = d.tables["cost"]
    rows = [{**c, "where": f"{c['phase']}: {c['step']}"} for c in costs]
    bars = [(r["where"], round(r["s_per_1000_docs"], 3)) for r in rows if r["s_per_1000_docs"] is not None]
    cpu = sum(c["cpu_s"] or 0 for c in costs)
    wall = summary.get("wall_s")
    return ('<h2 id="cost">Cost per step, in pipeline order</h2>'
            + _figure("cost", svg.hbar(bars, "CPU seconds per 1,000 documents the step received", "#955196"),
                      "Each step's own timer (datatrove stats), steps in pipeline order. The reader's timer covers only "
                      "opening each file (reading records runs between the other steps' timers), so it shows –. "
                      + (f"Wall time of the run: {wall:,.1f} s. " if isinstance(wall, (int, float)) else "") + "Data: cost.csv.")
            + table("cost", [("phase", "phase", "t"), ("step", "step", "t"), ("documents", "documents in", "num"),
                             ("cpu_s", "CPU s", "num"), ("s_per_1000_docs", "CPU s / 1,000 documents", "num"),
                             ("s_per_gb_warc", "CPU s / GB WARC", "num"), ("docs_per_s", "documents / s", "num")], rows,
                    [["total", "", "", (round(cpu, 2), None, "logs/*/stats.json"), "", "", ""]]))


def section_lineage(lineage: dict | None, d: ReportData) -> str:
    if not lineage:
        return ""
    parent = lineage.get("parent") or {}
    changed = [{"stage": s, "param": k, "old": json.dumps(v.get("old")), "new": json.dumps(v.get("new"))}
               for s, c in (lineage.get("params") or {}).items() for k, v in c.items()]
    out = ('<h2 id="lineage">Restaged from a parent release</h2><div class="lineage">'
           f"<p>Parent <code>{escape(str(parent.get('path')))}</code>, release <code>{escape(str(parent.get('release_id')))}</code>, "
           f"merkle root <code>{escape(str(parent.get('merkle_root', ''))[:16])}…</code>; stages re-run: "
           f"<b>{escape(', '.join(lineage.get('stages') or []))}</b>.</p>"
           + table("lineage_params", [("stage", "stage", "t"), ("param", "parameter", "t"), ("old", "parent", "t"),
                                      ("new", "this release", "t")], changed or [{"stage": "–", "param": "nothing changed"}]))
    rows = d.tables.get("lineage_languages")
    if rows is not None:
        moved = [r for r in rows if r["change"]]
        out += ("<p>Kept documents per language, parent and this release (languages that changed; all in "
                f"lineage_languages.csv). New ledger rows of this restage: {lineage.get('new_exclusions', 0):,}; parent "
                f"ledger rows the stage brought back: {lineage.get('revived', 0):,}.</p>"
                + table("lineage_languages", [("lang", "label", "t"), ("parent_documents", "parent", "num"),
                                              ("documents", "this release", "num"), ("change", "change", "num")], moved,
                        [["total", (sum(r["parent_documents"] for r in rows), None, "parent release"),
                          (sum(r["documents"] for r in rows), RECOUNT["documents"], None),
                          (sum(r["change"] for r in rows), None, "this release - parent")]]))
    elif lineage.get("parent_unreadable"):
        out += f"<p>The parent could not be read here ({escape(lineage['parent_unreadable'])}), so no per-language change.</p>"
    return out + "</div>"


def render(d: ReportData, summary: dict, release_url: str, lineage: dict | None, thresholds_source: str) -> str:
    s = d.stats
    run, rel = s["run"], s["release"]
    cons = "ok" if summary.get("conservation_ok") else "not checked" if not summary else "BROKEN"
    nav = "".join(f'<a href="#{k}">{v}</a>' for k, v in (
        ("languages", "languages"), ("funnel", "funnel"), ("quality", "quality"), ("lid", "language ID"),
        ("dates", "dates and domains"), ("samples", "samples"), ("rights", "rights"), ("dedup", "duplicates"),
        ("cost", "cost")))
    header = (f"<h1>corpus-tools run report</h1><p>Release <code>{escape(release_url)}</code>: run <code>{escape(str(run['run_id']))}</code>, "
              f"pipeline <code>{escape(str(run['pipeline']))}</code>, "
              + ("input: the parent release below" if lineage else f"{run['inputs']} input file{'' if run['inputs'] == 1 else 's'}")
              + ", release "
              f"<code>{escape(str(rel.get('release_id')))}</code> (version {escape(str(rel.get('version')))}).</p>"
              f'<p class="totals"><span>records read: <b>{run["records_read"] if run["records_read"] is not None else "?"}</b></span>'
              f'<span>kept: <b>{run["documents_kept"] if run["documents_kept"] is not None else "?"}</b></span>'
              f'<span>excluded: <b>{run["records_excluded"] if run["records_excluded"] is not None else "?"}</b></span>'
              f"<span>conservation: <b>{cons}</b></span></p><nav>{nav}</nav>"
              '<p class="caption">The numbers behind every chart and table: reports/*.csv and reports/stats.json.</p>')
    body = (header + section_lineage(lineage, d) + section_languages(d) + section_funnel(d, summary)
            + section_quality(d, thresholds_source) + section_lid(d) + section_dates_tlds(d) + section_domains(d)
            + section_samples(d, release_url) + section_rights(d) + section_dedup(d) + section_cost(d, summary))
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f"<title>corpus-tools run report</title><style>{CSS}</style></head><body>{body}<script>{JS}</script></body></html>")
