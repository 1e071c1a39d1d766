"""`corpus lid eval` on the small real fixture: JSON shape and the text report."""

import json
from pathlib import Path

from tests.conftest import run_cli

SAMPLE = Path(__file__).parents[1] / "data" / "lid" / "udhr_sample.tsv"


def test_lid_eval_json_shape():
    result = run_cli("lid", "eval", SAMPLE, "--backend", "py3langid", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"languages", "macro_eu24", "macro_all", "docs_per_s"}
    assert {"de", "sr", "cnr", "nb", "nn", "lb"} <= set(out["languages"])
    assert set(out["languages"]["de"]) == {"precision", "recall", "f1", "support"}
    assert out["languages"]["sr"]["support"] == 8
    assert set(out["macro_eu24"]) == {"precision", "recall", "f1"} and out["docs_per_s"] > 0
    assert 0.5 < out["macro_eu24"]["f1"] <= 1


def test_lid_eval_text_report_has_groups(tmp_path):
    result = run_cli("lid", "eval", SAMPLE, "--backend", "lid176")
    assert result.exit_code == 0, result.output
    assert "macro_eu24" in result.output and "group hr/bs/sr/cnr" in result.output and "group cs/sk" in result.output


def test_lid_eval_bad_file_is_one_line(tmp_path):
    result = run_cli("lid", "eval", tmp_path / "missing.tsv")
    assert result.exit_code != 0
    assert "not found" in result.output
