"""A copyright notice under the two shipped policies, end to end on real pages (tests/data/rights/notice-pages.warc.gz):
the default (rights-policy-v2) keeps notice pages trainable and not redistributable, the strict policy gives
rights-policy-v1's decisions, and `corpus stage rights --param policy=…` moves the documents between them with
lineage. The notice is never an opt-out: not in `optout_reasons`, not in the AI Act summary's honoured reservations."""

from __future__ import annotations

import json

import duckdb
import pytest

from corpus_tools.rights.policy import MANIFESTS, STRICT_POLICY
from tests.conftest import TEST_DATA, run_cli

PAGES = TEST_DATA / "rights" / "notice-pages.warc.gz"
# url -> (redistribution, train_eligible) that rights-policy-v1 gave at commit 41f7510, before this policy change
BEFORE = {
    "https://www.slashgear.com/2020-audi-e-tron-sportback-revealed-as-electric-4-door-coupe-19600369/": ("reserved", False),
    "https://www.polygraph.info/a/fact-check-russia-us-al-tanf-rukban/30279001.html": ("reserved", False),
    "https://mspoweruser.com/google-stadia-red-dead-redemption-2-doesnt-run-at-a-stable-60fps/": ("reserved", False),
    "https://www.sciencealert.com/nasa-finds-water-plumes-above-the-surface-of-jupiter-s-icy-moon-europa": ("unknown", True),
    "https://www.expapp.com/blog/introducing-junior-gaspard-new-ceo-experience/": ("unknown", True),
}
NOTICE = {u for u, (red, _) in BEFORE.items() if red == "reserved"}


def _docs(out) -> dict:
    rows = duckdb.sql(f"SELECT url, redistribution, train_eligible, optout_reasons, copyright_notice, policy_version, filename "
                      f"FROM read_parquet('{out}/shards/**/*.parquet', filename=true, hive_partitioning=false)").fetchall()
    assert all(f"/redistribution_class={r[1]}/" in r[6] for r in rows)
    return {r[0]: r[1:6] for r in rows}


def _cli(*args) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("notice") / "default"
    _cli("run", "eu_web", "--input", PAGES, "--output", out, "--no-report")
    return out


def test_default_keeps_notice_pages_trainable_and_not_redistributable(default_run):
    docs = _docs(default_run)
    assert set(docs) == set(BEFORE)
    for url, (red, eligible, reasons, notice, version) in docs.items():
        assert (reasons, eligible, notice, version) == ([], True, url in NOTICE, "rights-policy-v2")
        assert red == ("reserved" if url in NOTICE else BEFORE[url][0])
    s = json.loads(_cli("audit", "summary", default_run, "--json"))["optout"]
    assert (s["excluded"], s["kept_with_signal"], s["train_eligible"]) == (0, {}, {"true": 5})
    assert s["copyright_notices"] == {"kept": 3, "kept_train_eligible": {"true": 3}, "excluded": 0}
    md = _cli("audit", "summary", default_run)
    section = md[md.index("## 3.1"):md.index("## 3.2")]
    assert "Records excluded for an opt-out (reservations honoured): 0" in section
    assert "Kept documents with a copyright notice (not redistributed): 3; by train eligibility: true 3." in section


def test_strict_policy_reproduces_the_first_policy_and_restage_moves_documents_both_ways(default_run, tmp_path):
    strict = tmp_path / "strict"
    _cli("stage", "rights", "--input", default_run, "--output", strict, "--param", f"policy={STRICT_POLICY}")
    docs = _docs(strict)
    assert {u: (d[0], d[1]) for u, d in docs.items()} == BEFORE
    assert all(d[2] == [] and d[3] == (u in NOTICE) and d[4] == "rights-policy-strict-v1" for u, d in docs.items())
    release = json.loads((strict / "release.json").read_text())
    assert release["previous"]["documents_root"] == json.loads((default_run / "release.json").read_text())["documents_root"]
    change = release["lineage"]["params"]["rights"]["policy_path"]
    assert change["new"] == str(STRICT_POLICY) and change["old"].endswith("manifests/policy-v2.json")
    s = json.loads(_cli("audit", "summary", strict, "--json"))["optout"]
    assert (s["excluded"], s["kept_with_signal"]) == (0, {})
    assert s["copyright_notices"] == {"kept": 3, "kept_train_eligible": {"false": 3}, "excluded": 0}
    _cli("audit", "verify", strict)
    # and back to the default: the default run's documents exactly
    back = tmp_path / "back"
    _cli("stage", "rights", "--input", strict, "--output", back, "--param", f"policy={MANIFESTS / 'policy-v2.json'}")
    roots = [json.loads((d / "release.json").read_text())["documents_root"] for d in (default_run, back)]
    assert roots[0] == roots[1] and _docs(back) == _docs(default_run)


def test_strict_drop_policy_ledgers_notice_pages_as_notices_not_optouts(default_run, tmp_path):
    policy = json.loads(STRICT_POLICY.read_text())
    policy.update(policy_version="rights-policy-strict-drop-test", optout_action="drop", agents=str(MANIFESTS / policy["agents"]))
    (tmp_path / "drop.json").write_text(json.dumps(policy))
    out = tmp_path / "drop"
    _cli("stage", "rights", "--input", default_run, "--output", out, "--param", f"policy={tmp_path / 'drop.json'}")
    rows = duckdb.sql(f"SELECT url, stage, reason, rule, evidence FROM read_parquet('{out}/exclusions/**/*.parquet', "
                      "hive_partitioning=false, union_by_name=true)").fetchall()
    assert {r[0] for r in rows} == NOTICE
    for _, stage, reason, rule, evidence in rows:
        ev = json.loads(evidence)
        assert (stage, reason, rule, ev["reasons"], ev["copyright_notice"]) == (
            "rights", "copyright_notice", "rights-policy-strict-drop-test", [], True)
    assert set(_docs(out)) == set(BEFORE) - NOTICE
    s = json.loads(_cli("audit", "summary", out, "--json"))["optout"]
    assert (s["excluded"], s["excluded_by_signal"]) == (0, {})
    assert s["copyright_notices"]["excluded"] == 3


def test_a_release_made_under_the_first_default_restages_from_the_policy_that_decided_it(tmp_path):
    # made with rights-policy-v1 when it was the default: run.json names no policy, the manifests record v1
    old = tmp_path / "old"
    _cli("run", "eu_web", "--input", PAGES, "--output", old, "--no-report", "--param", f"policy={MANIFESTS / 'policy-v1.json'}")
    run = json.loads((old / "run.json").read_text())
    run["options"]["params"] = {}
    (old / "run.json").write_text(json.dumps(run))
    same = tmp_path / "same"
    assert "changed: nothing" in _cli("stage", "rights", "--input", old, "--output", same)
    assert {u: (d[0], d[1]) for u, d in _docs(same).items()} == BEFORE
    new = tmp_path / "new"
    _cli("stage", "rights", "--input", old, "--output", new, "--param", f"policy={MANIFESTS / 'policy-v2.json'}")
    change = json.loads((new / "release.json").read_text())["lineage"]["params"]["rights"]["policy_path"]
    assert change["old"].endswith("manifests/policy-v1.json") and change["new"].endswith("manifests/policy-v2.json")
    assert all(d[1] is True for d in _docs(new).values())
