"""Policy loading and validation: a bad file fails at start-up with the bad key named."""

from __future__ import annotations

import json

import pytest

from corpus_tools.core.errors import ConfigError
from corpus_tools.rights.policy import DEFAULT_POLICY, load_policy


def write(tmp_path, **changes):
    data = json.loads(DEFAULT_POLICY.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    load_policy.cache_clear()
    return str(path)


def test_default_policy_and_agent_list():
    p = load_policy()
    assert p.version == "rights-policy-v2" and p.agents_version == "ai_agents-v1"
    assert {"GPTBot", "CCBot", "Google-Extended", "ClaudeBot", "Applebot-Extended"} <= set(p.agents)
    assert "OAI-SearchBot" not in p.agents   # search agents are not training agents


@pytest.mark.parametrize("changes, key", [
    ({"optout_action": "delete"}, "'optout_action'"),
    ({"robots_basis": None}, "'robots_basis'"),
    ({"surprise": 1}, "'surprise'"),
    ({"classes": {"by": "free"}}, "'classes."),
    ({"optout_signals": {"tdmrep": "yes"}}, "'optout_signals."),
])
def test_bad_keys_are_named(tmp_path, changes, key):
    with pytest.raises(ConfigError, match=key):
        load_policy(write(tmp_path, **changes))


def test_missing_file_and_bad_json(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_policy(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_policy(str(bad))


def test_bad_agent_list(tmp_path):
    agents = tmp_path / "agents.json"
    agents.write_text(json.dumps({"version": "x", "agents": ["GPTBot"]}))
    with pytest.raises(ConfigError, match="agent list"):
        load_policy(write(tmp_path, agents=str(agents)))


def test_cli_reports_bad_policy_in_one_line(tmp_path):
    from tests.conftest import TEST_DATA, run_cli

    path = write(tmp_path, optout_action="delete")
    result = run_cli("run", "eu_web", "--input", TEST_DATA / "rights" / "pages.warc.gz", "--output", tmp_path / "out",
                     "--param", f"policy={path}")
    assert result.exit_code == 2
    assert "optout_action" in result.output and "Traceback" not in result.output


def test_shipped_policies_load_and_differ_only_in_the_notice_rule():
    from corpus_tools.rights.policy import MANIFESTS, STRICT_POLICY

    v1, v2, strict = (load_policy(str(MANIFESTS / n)) for n in ("policy-v1.json", "policy-v2.json", STRICT_POLICY.name))
    assert (v1.version, v2.version, strict.version) == ("rights-policy-v1", "rights-policy-v2", "rights-policy-strict-v1")
    assert load_policy().data == v2.data and v2["all_rights_reserved_optout"] is False
    same = {"policy_version", "description"}
    assert {k: v for k, v in strict.data.items() if k not in same} == {k: v for k, v in v1.data.items() if k not in same}
    assert {k for k in v2.data if v2.data[k] != strict.data[k]} == same | {"all_rights_reserved_optout"}
