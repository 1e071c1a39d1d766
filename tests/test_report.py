"""The run report: it renders in headless Chromium without errors, overflow or overlapping labels, every table
total and every CSV/JSON total equals a `corpus audit query` recount, and it works for a restaged release and
for a release on S3."""

from __future__ import annotations

import csv
import json
import shutil
import time

import pytest

from tests.conftest import run_cli

FIGURES = ["languages", "words", "funnel", "funnel_languages", "quality", "lid", "dates", "tlds", "domains", "licences",
           "optout", "dedup", "cost"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def query(release, sql: str) -> list[dict]:
    result = run_cli("audit", "query", release, sql, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def scalar(release, sql: str):
    return next(iter(query(release, sql)[0].values()))


def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(sample_run, tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = sample_run / "reports" / "index.html"
    assert page_path.exists(), "corpus run should write the report"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.goto(page_path.as_uri())
        sizes = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('figure[data-chart]')).map(f => {
            const s = Array.from(f.querySelectorAll('svg')).find(x => x.getBoundingClientRect().width > 0);
            const r = s.getBoundingClientRect(); return [f.dataset.chart, [r.width, r.height]]; }))""")
        totals = page.inner_text("p.totals")
        # every label of every chart (each language's quality histograms shown for this): no two overlap (1 px)
        overlaps = page.evaluate("""(() => { const out = [];
            document.querySelectorAll('[data-quality-lang]').forEach(d => d.hidden = false);
            document.querySelectorAll('svg.chart').forEach(svg => {
              if (!svg.getBoundingClientRect().width) return;
              const boxes = Array.from(svg.querySelectorAll('text')).map(t => [t.textContent, t.getBoundingClientRect()]);
              for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const [a, A] = boxes[i], [b, B] = boxes[j];
                if (A.left < B.right - 1 && B.left < A.right - 1 && A.top < B.bottom - 1 && B.top < A.bottom - 1)
                  out.push(svg.getAttribute('aria-label') + ': ' + a + ' / ' + b); } });
            return out; })()""")
        page.reload()
        cells = page.evaluate("""Array.from(document.querySelectorAll('tfoot td[data-total]')).map(td => ({
            table: td.closest('table').dataset.table, col: td.dataset.col, total: Number(td.dataset.total),
            sql: td.dataset.recount || null, source: td.dataset.source || null}))""")
        unexplained = page.evaluate("""Array.from(document.querySelectorAll('tfoot td')).filter(td =>
            /^[0-9][0-9,.]*$/.test(td.textContent.trim()) && !td.dataset.recount && !td.dataset.source).length""")
        overflow = {}
        for width in (1200, 800):
            page.set_viewport_size({"width": width, "height": 900})
            overflow[width] = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.set_viewport_size({"width": 1200, "height": 900})
        # sorting: a click on "documents" sorts the languages table descending, a second click ascending
        header = page.locator('table[data-table="languages"] th', has_text="documents").first
        header.click()
        first = page.evaluate("""Array.from(document.querySelectorAll('table[data-table="languages"] tbody tr'))
            .map(r => Number(r.cells[3].dataset.v))""")
        header.click()
        second = page.evaluate("""Array.from(document.querySelectorAll('table[data-table="languages"] tbody tr'))
            .map(r => Number(r.cells[3].dataset.v))""")
        visible_quality = page.evaluate("Array.from(document.querySelectorAll('[data-quality-lang]')).filter(d => !d.hidden).length")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert problems == []
    assert sorted(sizes) == sorted(FIGURES)
    assert all(w > 200 and h > 40 for w, h in sizes.values()), sizes
    assert "conservation: ok" in totals
    assert overlaps == [], overlaps[:20]
    assert overflow == {1200: 0, 800: 0}
    assert first == sorted(first, reverse=True) and second == sorted(second)
    assert visible_quality == 1
    assert unexplained == 0
    recounted = [c for c in cells if c["sql"]]
    assert {c["table"] for c in recounted} >= {"languages", "removals", "non_target", "crawl_dates", "redistribution", "licences"}
    for c in recounted:
        assert scalar(sample_run, c["sql"]) == c["total"], c
    assert all(c["source"] for c in cells if not c["sql"])
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_csv_and_stats_totals_equal_audit_recounts(sample_run):
    from corpus_tools.core.languages import registry
    from corpus_tools.report import build_report

    reports = sample_run / "reports"
    stats = json.loads((reports / "stats.json").read_text())
    assert stats["schema"] == "corpus-report-stats/1"
    assert set(stats["tables"]) <= {p.stem for p in reports.glob("*.csv")}
    langs = {r["lang"]: r for r in read_csv(reports / "languages.csv")}
    assert set(registry()) <= set(langs), "every target language has a row, also an empty one"
    per_lang = {r["lang"]: r for r in query(sample_run, "SELECT lang, count(*) AS n, sum(n_words) AS w, sum(strlen(text)) AS b "
                                                        "FROM documents GROUP BY 1")}
    for lab, r in langs.items():
        q = per_lang.get(lab, {"n": 0, "w": 0, "b": 0})
        assert (int(r["documents"]), int(r["words"]), int(r["bytes"])) == (q["n"], q["w"] or 0, q["b"] or 0), lab
    removed = {(r["lang"], r["stage"]): r["n"] for r in query(
        sample_run, "SELECT lang, stage, count(*) AS n FROM exclusions WHERE lang IS NOT NULL AND lang <> 'other' GROUP BY 1, 2")}
    for (lab, stage), n in removed.items():
        assert int(langs[lab][f"removed_{stage}"]) == n, (lab, stage)
    by_reason = {(r["stage"], r["reason"]): r["n"] for r in query(
        sample_run, "SELECT stage, reason, count(*) AS n FROM exclusions GROUP BY 1, 2")}
    ours: dict = {}
    for r in read_csv(reports / "removals.csv"):
        ours[(r["stage"], r["reason"])] = ours.get((r["stage"], r["reason"]), 0) + int(r["records"])
    assert ours == by_reason
    n_docs, n_excl = scalar(sample_run, "SELECT count(*) FROM documents"), scalar(sample_run, "SELECT count(*) FROM exclusions")
    t = stats["totals"]
    assert (t["documents"], t["excluded"]) == (n_docs, n_excl) == (stats["run"]["documents_kept"], stats["run"]["records_excluded"])
    assert t["words"] == scalar(sample_run, "SELECT sum(n_words) FROM documents")
    assert sum(int(r["records"]) for r in read_csv(reports / "non_target.csv")) == \
        scalar(sample_run, "SELECT count(*) FROM exclusions WHERE stage = 'lid'")
    dates = read_csv(reports / "crawl_dates.csv")
    assert (sum(int(r["kept"]) for r in dates), sum(int(r["excluded"]) for r in dates)) == (n_docs, n_excl)
    assert sum(int(r["documents"]) for r in read_csv(reports / "tlds.csv")) == n_docs
    assert sum(r["documents"] for r in stats["rights"]["redistribution"]) == n_docs
    assert {r["class"]: r["documents"] for r in stats["rights"]["redistribution"]} == \
        {r["c"]: r["n"] for r in query(sample_run, "SELECT coalesce(redistribution, 'unknown') AS c, count(*) AS n FROM documents GROUP BY 1")}
    lid = read_csv(reports / "lid_scores.csv")
    assert sum(1 for r in lid if r["outcome"] == "kept") == scalar(sample_run, "SELECT count(*) FROM documents WHERE lang_score IS NOT NULL")
    kept_bins = sum(int(r["kept"]) for r in read_csv(reports / "quality_signals.csv") if r["signal"] == "n_words")
    assert kept_bins == scalar(sample_run, "SELECT count(quality.n_words) FROM documents")
    samples = read_csv(reports / "samples.csv")
    assert {r["lang"] for r in samples} == {lab for lab, r in langs.items() if int(r["documents"])}
    # cost in pipeline order: the docs phase first (reader first, untimed), release last
    cost = stats["cost"]
    assert cost[0]["phase"] == "docs" and cost[0]["step"] == "WarcRecordReader" and cost[0]["timed"] is False
    assert cost[-1]["phase"] == "release"
    phases = list(dict.fromkeys(c["phase"] for c in cost))
    assert phases.index("dedup_signatures") < phases.index("dedup_buckets") < phases.index("dedup_filter")
    start = time.perf_counter()
    build_report(str(sample_run))
    assert time.perf_counter() - start < 15, "the report must stay fast"


def test_report_of_a_restaged_release(sample_run, tmp_path):
    out = tmp_path / "strict"
    result = run_cli("stage", "quality", "--input", sample_run, "--output", out, "--param", "min_doc_words=300")
    assert result.exit_code == 0, result.output
    assert run_cli("report", out).exit_code == 0
    stats = json.loads((out / "reports" / "stats.json").read_text())
    parent = json.loads((sample_run / "release.json").read_text())
    assert stats["lineage"]["parent"]["release_id"] == parent["release_id"]
    assert stats["lineage"]["params"]["quality"]["min_doc_words"] == {"old": 50.0, "new": 300.0}
    assert stats["quality_thresholds"] == "language_ids/quality_thresholds.tsv with min_doc_words=300"
    moved = read_csv(out / "reports" / "lineage_languages.csv")
    assert sum(int(r["change"]) for r in moved) == scalar(out, "SELECT count(*) FROM documents") - \
        scalar(sample_run, "SELECT count(*) FROM documents") < 0
    assert stats["lineage"]["new_exclusions"] == scalar(
        out, "SELECT count(*) FROM exclusions WHERE ledger_file LIKE 'exclusions/phase=restage-%'") > 0
    n_words = [r for r in read_csv(out / "reports" / "quality_signals.csv") if r["signal"] == "n_words"]
    assert json.loads(n_words[0]["thresholds"])["min_doc_words"] == 300.0
    page = (out / "reports" / "index.html").read_text()
    assert "Restaged from a parent release" in page and "min_doc_words" in page


def test_report_of_a_release_on_s3(sample_run, s3_server, s3_bucket):
    client = s3_server.client()
    for p in sample_run.rglob("*"):
        rel = p.relative_to(sample_run).as_posix()
        if p.is_file() and rel.split("/")[0] not in ("staging", "dedup", "reports") and \
                (not rel.startswith("logs/") or rel.endswith("/stats.json")):
            client.put_object(Bucket=s3_bucket, Key=f"out/{rel}", Body=p.read_bytes())
    result = run_cli("report", f"s3://{s3_bucket}/out")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"s3://{s3_bucket}/out/reports/index.html"
    remote = json.loads(client.get_object(Bucket=s3_bucket, Key="out/reports/stats.json")["Body"].read())
    local = json.loads((sample_run / "reports" / "stats.json").read_text())
    for key in ("totals", "languages", "removals", "rights", "crawl_dates", "tlds", "cost"):
        assert remote[key] == local[key], key
    page = client.get_object(Bucket=s3_bucket, Key="out/reports/index.html")["Body"].read().decode()
    assert f"Release <code>s3://{s3_bucket}/out</code>" in page
    assert (f"corpus audit trace s3://{s3_bucket}/out " in page) == bool(local["totals"]["documents"])


def test_counts_that_span_orders_of_magnitude_get_a_log_axis():
    from corpus_tools.report import svg

    assert "(log scale)" in svg.hbar([("eng_Latn", 14_700), ("mlt_Latn", 1)], "documents")
    assert "(log scale)" not in svg.hbar([("eng_Latn", 30), ("mlt_Latn", 10)], "documents")
    long = svg.hbar([("x" * 200, 5)], "documents")
    assert f"<title>{'x' * 200}: 5</title>" in long and "x…</text>" in long   # cut on the axis, whole in the tooltip


def test_no_report_skips_the_page(tmp_path):
    from tests.conftest import WARC_REAL

    out = tmp_path / "o"
    result = run_cli("run", "eu_web", "--input", WARC_REAL / "warcio" / "example.warc.gz", "--output", out, "--no-report")
    assert result.exit_code == 0 and not (out / "reports").exists()
    assert run_cli("report", out).exit_code == 0 and (out / "reports" / "index.html").exists()
    assert (out / "reports" / "stats.json").exists() and (out / "reports" / "languages.csv").exists()
