"""The run report renders in headless Chromium: no console errors, every chart present and non-empty."""

from __future__ import annotations

import shutil

import pytest

CHARTS = ["languages", "funnel", "rights", "optout", "domains", "lid", "dedup", "cost"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


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
        sizes = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('figure[data-chart]')).map(
            f => [f.dataset.chart, [f.querySelector('img').naturalWidth, f.querySelector('img').naturalHeight]]))""")
        totals = page.inner_text("p.totals")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert problems == []
    assert sorted(sizes) == sorted(CHARTS)
    assert all(w > 200 and h > 100 for w, h in sizes.values()), sizes
    assert "conservation: ok" in totals
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_report_numbers_match_the_run(sample_run):
    import json

    from corpus_tools.report import stage_costs

    summary = json.loads((sample_run / "run.json").read_text())
    page = (sample_run / "reports" / "index.html").read_text()
    assert f"records read: <b>{summary['records_read']}</b>" in page
    assert f"kept: <b>{summary['documents_kept']}</b>" in page
    costs = stage_costs(str(sample_run), summary)
    assert any(c["step"] == "TrafilaturaExtractor" and c["cpu_s"] > 0 for c in costs)


def test_no_report_skips_the_page(tmp_path):
    from tests.conftest import WARC_REAL, run_cli

    out = tmp_path / "o"
    result = run_cli("run", "eu_web", "--input", WARC_REAL / "warcio" / "example.warc.gz", "--output", out, "--no-report")
    assert result.exit_code == 0 and not (out / "reports").exists()
    assert run_cli("report", out).exit_code == 0 and (out / "reports" / "index.html").exists()
