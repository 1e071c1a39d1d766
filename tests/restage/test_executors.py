"""`corpus stage` under the Ray executor and with an S3 output: the same release as the local run.

The parent is a real run over tests/data/rights/pages.warc.gz (18 pages, with robots.txt captures); the restage
re-applies a policy that drops opted-out pages, so every part of the pipeline (carried ledger, new ledger,
re-fetch of the WARC records, release) is exercised.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, TEST_DATA, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def parent_and_policy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rights")
    parent = tmp / "parent"
    _ok(run_cli("run", "eu_web", "--input", TEST_DATA / "rights" / "pages.warc.gz", "--robots",
                TEST_DATA / "rights" / "robots.warc.gz", "--output", parent, "--param", "dedup=false"))
    policy = json.loads((ROOT / "manifests" / "policy-v2.json").read_text())
    policy.update(optout_action="drop", policy_version="rights-policy-v2-drop", agents=str(ROOT / "manifests" / policy["agents"]))
    (tmp / "drop.json").write_text(json.dumps(policy))
    local = tmp / "local"
    _ok(run_cli("stage", "rights", "--input", parent, "--output", local, "--param", f"policy={tmp / 'drop.json'}"))
    return parent, tmp / "drop.json", json.loads((local / "release.json").read_text())


def test_ray_executor_writes_the_same_release_as_local(parent_and_policy, tmp_path):
    parent, policy, local = parent_and_policy
    out = tmp_path / "ray"
    # `--ray-address local`: a private Ray instance for this run, whatever cluster the machine also runs
    _ok(run_cli("stage", "rights", "--input", parent, "--output", out, "--param", f"policy={policy}",
                "--executor", "ray", "--ray-address", "local", "--workers", "2"))
    ray = json.loads((out / "release.json").read_text())
    assert (ray["release_id"], ray["merkle_root"], ray["documents_root"]) == \
        (local["release_id"], local["merkle_root"], local["documents_root"])


def test_s3_output_is_a_verifiable_release_with_the_same_roots(parent_and_policy, s3_server, s3_bucket):
    parent, policy, local = parent_and_policy
    out = f"s3://{s3_bucket}/restaged"
    _ok(run_cli("stage", "rights", "--input", parent, "--output", out, "--param", f"policy={policy}"))
    _ok(run_cli("audit", "verify", out))
    from corpus_tools.core import storage

    remote = json.loads(storage.read_bytes(f"{out}/release.json"))
    assert (remote["merkle_root"], remote["documents_root"]) == (local["merkle_root"], local["documents_root"])
    assert remote["lineage"]["parent"]["merkle_root"] == local["lineage"]["parent"]["merkle_root"]
