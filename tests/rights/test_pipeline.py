"""End to end: `corpus run eu_web … --robots` emits the rights columns and partitions, and a drop policy
puts every opt-out in the ledger with its evidence and the policy version."""

from __future__ import annotations

import json

import duckdb
import pytest

from corpus_tools.rights.policy import DEFAULT_POLICY
from tests.conftest import TEST_DATA, run_cli

PAGES = TEST_DATA / "rights" / "pages.warc.gz"
ROBOTS = TEST_DATA / "rights" / "robots.warc.gz"
FAST = ["--param", "label_only=true", "--param", "dedup=false"]

EXPECTED = {   # path -> (redistribution, first opt-out reason or None)
    "open.example.org/news/cycling": ("sharealike", None),
    "open.example.org/news/bridge": ("unknown", None),              # CC licence on an image caption only
    "open.example.org/news/header-tdm": ("reserved", "tdmrep:http_header"),
    "open.example.org/news/invalid-tdm": ("unknown", None),         # tdm-reservation: 2 is unset
    "open.example.org/news/noai": ("reserved", "noai:x-robots-tag"),
    "open.example.org/news/noindex": ("unknown", None),             # noindex is not an AI opt-out
    "open.example.org/news/usage": ("reserved", "aipref:http_header"),
    "news.example.com/2024/06/council": ("reserved", "robots:CCBot"),
    "cf.example.net/blog/post": ("reserved", "content_signal:ai-train=no"),
    "aipref.example.org/open/essay": ("unknown", None),
    "aipref.example.org/closed/essay": ("reserved", "aipref:robots"),
    "gone.example.com/page": ("unknown", None),                     # robots.txt 404: allow all
    "down.example.com/page": ("reserved", "robots:AI2Bot"),         # robots.txt 503: disallow all
    "redirect.example.com/private/page": ("reserved", "robots:AI2Bot"),
    "dated.example.com/article": ("unknown", None),                 # robots at fetch time allowed GPTBot
    "publisher.example.fr/open/report": ("unknown", None),
    "publisher.example.fr/books/chapter": ("reserved", "tdmrep:wellknown"),
    "publisher.example.fr/books/meta-zero": ("unknown", None),      # meta 0 supersedes the file's 1
}


def key(url: str) -> str:
    return url.split("://", 1)[1]


@pytest.mark.slow
def test_default_policy_columns_and_partitions(tmp_path):
    out = tmp_path / "out"
    result = run_cli("run", "eu_web", "--input", PAGES, "--input", ROBOTS, "--robots", ROBOTS, "--output", out, *FAST)
    assert result.exit_code == 0, result.output
    rows = duckdb.sql(f"SELECT url, redistribution, optout_reasons, train_eligible, policy_version, filename "
                      f"FROM read_parquet('{out}/shards/**/*.parquet', filename=true, hive_partitioning=false)").fetchall()
    got = {key(u): (r, reasons[0] if reasons else None) for u, r, reasons, _, _, _ in rows}
    assert got == EXPECTED
    for _, red, reasons, eligible, version, filename in rows:
        assert f"/redistribution_class={red}/" in filename and version == "rights-policy-v2"
        assert eligible == (not reasons)
    # the robots.txt / tdmrep.json records passed as --input too are non-HTML ledger rows, with the policy version
    ledger = duckdb.sql(f"SELECT reason, policy_version FROM read_parquet('{out}/exclusions/**/*.parquet')").fetchall()
    assert ledger and all(r == ("non_html", "rights-policy-v2") or r[0] == "http_status" for r in ledger)
    assert all(v == "rights-policy-v2" for _, v in ledger)


@pytest.mark.slow
def test_drop_policy_sends_optouts_to_the_ledger(tmp_path):
    policy = json.loads(DEFAULT_POLICY.read_text())
    policy.update(policy_version="rights-policy-drop-test", optout_action="drop", agents=str(DEFAULT_POLICY.parent / "ai_agents-v1.json"))
    path = tmp_path / "policy-drop.json"
    path.write_text(json.dumps(policy))
    out = tmp_path / "out"
    result = run_cli("run", "eu_web", "--input", PAGES, "--robots", ROBOTS, "--output", out, *FAST,
                     "--param", f"policy={path}")
    assert result.exit_code == 0, result.output
    kept = {key(u) for (u,) in duckdb.sql(f"SELECT url FROM read_parquet('{out}/shards/**/*.parquet')").fetchall()}
    assert kept == {k for k, (red, reason) in EXPECTED.items() if reason is None}
    rows = duckdb.sql(f"SELECT url, stage, reason, rule, evidence, policy_version "
                      f"FROM read_parquet('{out}/exclusions/**/*.parquet', hive_partitioning=false)").fetchall()
    dropped = {key(u): (stage, reason, rule, json.loads(ev), pv) for u, stage, reason, rule, ev, pv in rows}
    assert set(dropped) == {k for k, (red, reason) in EXPECTED.items() if reason is not None}
    for k, (stage, reason, rule, ev, pv) in dropped.items():
        assert (stage, reason, rule, pv) == ("rights", "optout", "rights-policy-drop-test", "rights-policy-drop-test")
        assert ev["reasons"][0] == EXPECTED[k][1] and ev["policy_version"] == "rights-policy-drop-test"
    robots_ev = dropped["news.example.com/2024/06/council"][3]
    assert robots_ev["robots_capture"]["date"] == "2024-05-01T10:00:00Z" and robots_ev["robots_capture"]["sha256"]
    assert dropped["publisher.example.fr/books/chapter"][3]["tdmrep_capture"]["warc_record_id"]
