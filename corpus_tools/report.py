"""The run report: `corpus report OUT` writes `OUT/reports/index.html`, one static self-contained page.

Every number comes from the run's own files (DuckDB over the shards and the exclusions ledger, the executor
stats in `logs/`, `run.json`); the charts are matplotlib PNGs embedded as data URIs, so the page opens from
disk with no network. `corpus run` writes it at the end of every run.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from corpus_tools import storage  # noqa: E402
from corpus_tools.languages import language_name  # noqa: E402


@dataclass
class Chart:
    key: str
    title: str
    png: bytes
    caption: str


def _lang_label(label: str) -> str:
    name = language_name(label)
    return f"{name} ({label})" if name != label else label


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _barh(labels: list[str], values: list[float], xlabel: str, colour: str = "#3b6ea5"):
    height = max(2.2, 0.32 * len(labels) + 1)
    fig, ax = plt.subplots(figsize=(8, height))
    if not labels:
        labels, values = ["(none in this run)"], [0]
    ax.barh(range(len(labels)), values, color=colour)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:,.0f}" if float(v).is_integer() else f" {v:,.2f}", va="center", fontsize=8)
    ax.margins(x=0.15)
    return fig


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def chart_languages(con) -> Chart:
    rows = _rows(con, "SELECT lang, count(*), coalesce(sum(n_words), 0) FROM documents GROUP BY lang ORDER BY 2 DESC, 1")
    fig, axes = plt.subplots(1, 2, figsize=(11, max(2.5, 0.3 * len(rows) + 1)), sharey=True)
    labels = [_lang_label(r[0]) for r in rows] or ["(no documents)"]
    for ax, idx, xlabel, colour in ((axes[0], 1, "documents", "#3b6ea5"), (axes[1], 2, "words", "#6a9f58")):
        values = [r[idx] for r in rows] or [0]
        ax.barh(range(len(labels)), values, color=colour)
        ax.set_xlabel(xlabel)
        ax.margins(x=0.15)
    axes[0].set_yticks(range(len(labels)), labels)
    axes[0].invert_yaxis()
    total = sum(r[1] for r in rows)
    return Chart("languages", "Documents and words per language", _png(fig),
                 f"{total:,} kept documents in {len(rows)} languages.")


def chart_funnel(con, summary: dict) -> Chart:
    rows = _rows(con, "SELECT stage || ' / ' || reason, count(*) FROM exclusions GROUP BY 1 ORDER BY 2 DESC, 1")
    kept = summary.get("documents_kept")
    labels = [r[0] for r in rows] + (["kept"] if kept is not None else [])
    values = [r[1] for r in rows] + ([kept] if kept is not None else [])
    fig = _barh(labels, values, "records", "#b5533c")
    return Chart("funnel", "Where the records went: removal by stage and reason", _png(fig),
                 f"{summary.get('records_read', '?'):,} records read; each ends kept or excluded with a reason."
                 if isinstance(summary.get("records_read"), int) else "Records by outcome.")


def chart_rights(con) -> Chart:
    red = _rows(con, "SELECT coalesce(redistribution, 'unknown'), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC")
    lic = _rows(con, "SELECT licence, count(*) FROM documents WHERE licence IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 15")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    for ax, rows, title, colour in ((axes[0], red, "redistribution class", "#7a5195"), (axes[1], lic, "licence", "#ef5675")):
        labels = [r[0] for r in rows] or ["(none)"]
        values = [r[1] for r in rows] or [0]
        ax.barh(range(len(labels)), values, color=colour)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_title(title)
        ax.set_xlabel("documents")
    n_lic = sum(r[1] for r in lic)
    return Chart("rights", "Redistribution classes and licences", _png(fig), f"{n_lic:,} kept documents carry a detected licence.")


def chart_optout(con) -> Chart:
    """Machine-readable opt-outs per signal (left) and copyright notices (right), never mixed: a notice
    ("all rights reserved") is not a TDM reservation, it only stops redistribution."""
    from corpus_tools.release.summary import LEGACY_NOTICE, OPTOUT_ROW, notices, optout_signals

    kept, excluded = optout_signals(con, prefix=False)
    signals = {**{f"{r} (kept, reserved)": n for r, n in kept.items()}, **{f"{r} (excluded)": n for r, n in excluded.items()}}
    n_optout = _rows(con, "SELECT count(*) FROM documents WHERE "
                          f"len(list_filter(coalesce(optout_reasons, []), lambda r: r <> '{LEGACY_NOTICE}')) > 0")[0][0] \
        + _rows(con, f"SELECT count(*) FROM exclusions WHERE {OPTOUT_ROW}")[0][0]
    n = notices(con)
    found = {f"kept, not redistributable, {'trainable' if t == 'true' else 'not trainable (policy)'}": c
             for t, c in n["kept_train_eligible"].items()}
    if n["excluded"]:
        found["excluded (policy)"] = n["excluded"]
    rows = [max(len(signals), 1), max(len(found), 1)]
    fig, axes = plt.subplots(2, 1, figsize=(8, 0.32 * sum(rows) + 2.4), gridspec_kw={"height_ratios": rows})
    for ax, counts, title, colour in ((axes[0], signals, "machine-readable opt-outs, per signal", "#ffa600"),
                                      (axes[1], found, "copyright notices (not an opt-out)", "#7a5195")):
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) or [("(none in this run)", 0)]
        ax.barh(range(len(items)), [v for _, v in items], color=colour)
        ax.set_yticks(range(len(items)), [k for k, _ in items])
        ax.invert_yaxis()
        ax.set_title(title)
        ax.set_xlabel("documents")
        for i, (_, v) in enumerate(items):
            ax.text(v, i, f" {v:,}", va="center", fontsize=8)
        ax.margins(x=0.15)
        ax.set_xlim(left=0, right=None if counts else 1)
    fig.tight_layout()
    return Chart("optout", "Opt-out signals and copyright notices", _png(fig),
                 f"{n_optout:,} documents with a machine-readable TDM or AI-training opt-out (TDMRep, robots.txt, noai, "
                 f"Content-Usage, Content-Signal). {n['kept'] + n['excluded']:,} documents with an 'all rights reserved' "
                 "copyright notice: not an opt-out; never redistributed, and trainable unless the policy says otherwise.")


def chart_domains(con) -> Chart:
    rows = _rows(con, "SELECT coalesce(domain, '?'), count(*), sum(n_chars) FROM documents GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 20")
    fig = _barh([f"{r[0]} ({r[1]} docs)" for r in rows], [r[2] / 1000 for r in rows], "thousand characters of text", "#58508d")
    return Chart("domains", "Top domains by text size", _png(fig), "The 20 registered domains contributing most text.")


def chart_lid_scores(con) -> Chart:
    rows = _rows(con, "SELECT lang, list(lang_score ORDER BY lang_score) FROM documents WHERE lang_score IS NOT NULL GROUP BY lang ORDER BY count(*) DESC, lang LIMIT 30")
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(rows) + 1)))
    if rows:
        ax.boxplot([r[1] for r in rows], orientation="horizontal", tick_labels=[_lang_label(r[0]) for r in rows])
        ax.invert_yaxis()
    else:
        ax.barh([0], [0])
        ax.set_yticks([0], ["(no documents)"])
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("language-ID score of the kept label")
    return Chart("lid", "Language-ID score distribution per language", _png(fig), "Box: quartiles; whiskers: 1.5 IQR.")


def chart_dup_clusters(con) -> Chart:
    rows = _rows(con, "SELECT coalesce(dup_cluster_size, 1) AS s, count(*) FROM documents GROUP BY 1 ORDER BY 1")
    fig, ax = plt.subplots(figsize=(8, 3))
    sizes = [r[0] for r in rows] or [1]
    counts = [r[1] for r in rows] or [0]
    ax.bar([str(s) for s in sizes], counts, color="#2f7f6f")
    ax.set_xlabel("duplicate-cluster size (1 = unique)")
    ax.set_ylabel("kept documents")
    return Chart("dedup", "Duplicate-cluster sizes", _png(fig),
                 f"{sum(c for s, c in zip(sizes, counts) if s > 1):,} kept documents represent a cluster of near-copies.")


def stage_costs(output: str, summary: dict) -> list[dict]:
    """CPU seconds per 1,000 documents and per GB of WARC, and docs/s, for every step of every phase."""
    warc_bytes = sum(os.path.getsize(p) for p in summary.get("inputs", []) if not storage.is_s3(p) and os.path.exists(p))
    records = summary.get("records_read") or 0
    out = []
    for stats_file in sorted(Path(output, "logs").glob("*/stats.json")):
        phase = stats_file.parent.name
        for step in json.loads(stats_file.read_text()):
            timing = step.get("time_stats") or {}
            seconds = float(timing.get("total", 0) or 0) if isinstance(timing, dict) else float(timing)
            out.append({
                "phase": phase, "step": step["name"].split(": ", 1)[-1], "cpu_s": seconds,
                "s_per_1000_docs": seconds / records * 1000 if records else None,
                "s_per_gb_warc": seconds / (warc_bytes / 1e9) if warc_bytes else None,
                "docs_per_s": records / seconds if seconds else None,
            })
    return out


def chart_costs(costs: list[dict]) -> Chart:
    labels = [f"{c['phase']}: {c['step']}" for c in costs]
    values = [c["s_per_1000_docs"] or 0 for c in costs]
    fig = _barh(labels, values, "CPU seconds per 1,000 records read", "#955196")
    return Chart("cost", "Per-stage cost", _png(fig), "Measured by each step's own timer (datatrove stats).")


def _cost_table(costs: list[dict]) -> str:
    def fmt(v, spec):
        return "–" if v is None else format(v, spec)

    rows = "".join(
        f"<tr><td>{html.escape(c['phase'])}</td><td>{html.escape(c['step'])}</td><td>{c['cpu_s']:.2f}</td>"
        f"<td>{fmt(c['s_per_1000_docs'], '.2f')}</td><td>{fmt(c['s_per_gb_warc'], ',.0f')}</td><td>{fmt(c['docs_per_s'], ',.0f')}</td></tr>"
        for c in costs)
    return ("<table><tr><th>phase</th><th>step</th><th>CPU s</th><th>s / 1,000 docs</th><th>s / GB WARC</th>"
            f"<th>docs/s</th></tr>{rows}</table>")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>corpus-tools run report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
figure {{ margin: 2em 0; }} figcaption {{ color: #555; font-size: 0.9em; }}
img {{ max-width: 100%; }} table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }} td:nth-child(-n+2) {{ text-align: left; }}
.totals span {{ display: inline-block; margin-right: 2em; font-size: 1.1em; }}
</style></head>
<body>
<h1>corpus-tools run report</h1>
<p>Run <code>{run_id}</code>, pipeline <code>{pipeline}</code>, {n_inputs} input files.</p>
<p class="totals"><span>records read: <b>{read}</b></span><span>kept: <b>{kept}</b></span>
<span>excluded: <b>{excluded}</b></span><span>conservation: <b>{conservation}</b></span></p>
{figures}
<h2>Per-stage cost, in numbers</h2>
{cost_table}
</body></html>
"""


def build_report(output: str) -> Path:
    """Write OUT/reports/index.html for a local run directory; returns its path."""
    if storage.is_s3(output):
        from corpus_tools.errors import ConfigError

        raise ConfigError("corpus report works on a local output directory: copy the run down first (aws s3 sync)")
    run_json = Path(output, "run.json")
    if not run_json.is_file() and not any(Path(output, d).is_dir() for d in ("shards", "exclusions")):
        from corpus_tools.errors import InputError

        raise InputError(f"{output} is not the output of a run (no run.json, shards/ or exclusions/): "
                         "give the --output directory of a `corpus run`")
    summary = json.loads(run_json.read_text()) if run_json.exists() else {}
    from corpus_tools.audit.store import connect, open_release

    costs = stage_costs(output, summary)
    with open_release(output, require_release=False) as release:
        con = connect(release)
        charts = [chart_languages(con), chart_funnel(con, summary), chart_rights(con), chart_optout(con),
                  chart_domains(con), chart_lid_scores(con), chart_dup_clusters(con), chart_costs(costs)]
    figures = "\n".join(
        f'<figure data-chart="{c.key}"><h2>{html.escape(c.title)}</h2>'
        f'<img alt="{html.escape(c.title)}" src="data:image/png;base64,{base64.b64encode(c.png).decode()}">'
        f"<figcaption>{html.escape(c.caption)}</figcaption></figure>" for c in charts)
    page = PAGE.format(
        run_id=html.escape(str(summary.get("run_id", "?"))), pipeline=html.escape(str(summary.get("pipeline", "?"))),
        n_inputs=len(summary.get("inputs", [])), read=summary.get("records_read", "?"), kept=summary.get("documents_kept", "?"),
        excluded=summary.get("records_excluded", "?"),
        conservation="ok" if summary.get("conservation_ok") else "not checked" if not summary else "BROKEN",
        figures=figures, cost_table=_cost_table(costs))
    path = Path(output, "reports", "index.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.write_bytes(str(path), page.encode("utf-8"))
    return path
