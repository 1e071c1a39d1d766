"""The stage table and parameter parsing of `corpus stage` (no pipeline run)."""

from __future__ import annotations

import json

import pytest

from corpus_tools.errors import ConfigError
from corpus_tools.restage.registry import STAGES, parse_stages, split_params
from tests.conftest import run_cli


def test_stages_lists_every_stage_with_parameters_and_versions():
    result = run_cli("stages", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["stage"]: r for r in json.loads(result.output)}
    assert set(rows) == {"lid", "rights", "quality", "pii", "dedup", "release"}
    assert "gopher_quality_v1" in rows["quality"]["versions"]["rules"]
    assert rows["rights"]["versions"]["policy"] == "rights-policy-v2"
    assert "minhash_v1" in rows["dedup"]["versions"]["rules"]
    assert rows["lid"]["versions"]["rules"] == ["lid_cascade_v3"]
    params = {p["name"]: p for p in rows["pii"]["params"]}
    from corpus_tools.stages.pii import PiiMasker

    assert params["max_density"]["type"] == "float" and params["max_density"]["default"] == PiiMasker().max_density
    text = run_cli("stages").output
    assert "--param min_entities=<int>" in text and "versions:" in text


def test_chains_are_put_in_recipe_order_and_unknown_names_refused():
    assert parse_stages("pii,quality") == ["quality", "pii"]
    with pytest.raises(ConfigError, match="unknown stage"):
        parse_stages("quality,sharpen")


def test_parameters_go_to_their_stage_and_bad_ones_fail_before_any_work():
    assert split_params(["quality", "pii"], {"min_stop_words.deu_Latn": "3", "max_density": "0.1"}) == \
        {"quality": {"min_stop_words.deu_Latn": "3"}, "pii": {"max_density": "0.1"}}
    with pytest.raises(ConfigError, match="ambiguous"):
        split_params(["quality", "pii"], {"label_only": "true"})
    assert split_params(["quality", "pii"], {"pii.label_only": "true"})["pii"] == {"label_only": "true"}
    with pytest.raises(ConfigError, match="no stage of quality has a parameter 'max_dense'"):
        split_params(["quality"], {"max_dense": "1"})
    with pytest.raises(ConfigError, match="is not a float"):
        split_params(["quality"], {"min_stop_words": "many"})
    assert STAGES["quality"].parse({"rules": "gopher_quality_v1,c4_v1"}) == {"rules": ("gopher_quality_v1", "c4_v1")}


def test_stage_on_a_missing_release_is_one_line(tmp_path):
    result = run_cli("stage", "quality", "--input", tmp_path / "nowhere", "--output", tmp_path / "out")
    assert result.exit_code != 0 and result.output.count("\n") == 1 and "not found" in result.output
