"""The stage table and parameter parsing of `corpus stage`, read from the recipe (no pipeline run)."""

from __future__ import annotations

import json

import pytest

from corpus_tools.core.errors import ConfigError
from corpus_tools.restage.stages import StagePlan, parse_stages, recipe_steps, split_params
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
    from corpus_tools.stages.pii import PiiDensityRule

    assert params["max_density"]["type"] == "float" and params["max_density"]["default"] == PiiDensityRule().max_density
    assert "PII entities per whitespace word" in params["max_density"]["help"]  # from the step's own docstring
    text = run_cli("stages").output
    assert "--param min_entities=<int>" in text and "versions:" in text


def test_chains_are_put_in_recipe_order_and_unknown_names_refused():
    assert parse_stages("pii,quality") == ["quality", "pii"]
    with pytest.raises(ConfigError, match="unknown stage"):
        parse_stages("quality,sharpen")


def test_parameters_go_to_their_stage_and_bad_ones_fail_before_any_work():
    steps = recipe_steps()
    assert split_params(["quality", "pii"], steps, {"min_stop_words.deu_Latn": "3", "max_density": "0.1"}) == \
        {"quality": {"min_stop_words.deu_Latn": "3"}, "pii": {"max_density": "0.1"}}
    with pytest.raises(ConfigError, match="ambiguous"):
        split_params(["quality", "pii"], steps, {"label_only": "true"})
    assert split_params(["quality", "pii"], steps, {"pii.label_only": "true"})["pii"] == {"label_only": "true"}
    with pytest.raises(ConfigError, match="no stage of quality has a parameter 'max_dense'"):
        split_params(["quality"], steps, {"max_dense": "1"})
    with pytest.raises(ConfigError, match="is not a number"):
        StagePlan("quality", steps, {"min_stop_words": "many"})
    assert StagePlan("quality", steps, {"rules": "gopher_quality_v1,c4_v1"}).values == {"rules": ("gopher_quality_v1", "c4_v1")}


def test_a_stage_plan_rebuilds_only_what_changed_and_reads_old_values_from_the_parent_steps():
    from corpus_tools.core.document import Rule
    from corpus_tools.restage.steps import OnlyRevived

    steps = recipe_steps()
    plan = StagePlan("quality", steps, {"min_stop_words.deu_Latn": "3", "thresholds": "language_ids/quality_thresholds.tsv"})
    assert plan.changed["min_stop_words.deu_Latn"] == {"old": 2.0, "new": 3.0}  # the parent table's value
    assert plan.changed["thresholds_path"]["old"] is None  # the alias reached the constructor parameter
    built = [s for group in plan.steps().values() for s in group]
    # the signals annotator's parameter changed too (thresholds_path), so it re-runs on every document
    assert not any(isinstance(s, OnlyRevived) for s in built)
    only_rule = StagePlan("pii", steps, {"max_density": "0.1"})
    kinds = [type(s).__name__ for group in only_rule.steps().values() for s in group]
    assert kinds == ["OnlyRevived", "PiiDensityRule"]  # masked text is stored: the masker runs on revived documents only
    rule = next(s for g in only_rule.steps().values() for s in g if isinstance(s, Rule))
    assert rule.max_density == 0.1 and rule.min_entities == 5  # the parent's value of what was not given
    assert StagePlan("pii", steps, {}).changed == {}
    with pytest.raises(ConfigError, match="has no parameter"):
        StagePlan("quality", steps, {"nonsense": "1"})


def test_every_step_stores_its_constructor_parameters_under_their_names():
    """`corpus stage` reads the parent's values from the instances: a parameter without its attribute would
    silently fall back to a default."""
    for step in recipe_steps():
        assert set(step.params()) == set(step.parameters()), type(step).__name__


def test_stage_on_a_missing_release_is_one_line(tmp_path):
    result = run_cli("stage", "quality", "--input", tmp_path / "nowhere", "--output", tmp_path / "out")
    assert result.exit_code != 0 and result.output.count("\n") == 1 and "not found" in result.output
