"""The fitting and report-writing tools live in `tools/`, outside the runtime package, and run both ways."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_runtime_package_never_imports_the_tools():
    offenders = []
    for path in (ROOT / "corpus_tools").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n == "tools" or n.startswith("tools.")]
    assert offenders == []


def test_a_tool_runs_as_a_module_and_as_a_script():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv in ([sys.executable, "-m", "tools.lid_report", "--help"],
                 [sys.executable, str(ROOT / "tools" / "lid_report.py"), "--help"]):
        out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "--reuse-fits" in out.stdout
    env.pop("PYTHONPATH")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "lid_report.py"), "--help"], cwd="/",
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr                   # from anywhere: the script finds its checkout


def test_each_shipped_lid_threshold_is_the_one_its_recorded_figures_choose():
    """language_ids/lid_thresholds.tsv keeps, per label, every candidate's figures on the choice sources; the
    threshold in the row is the candidate with the most sources within a point of the best backend, then the
    highest F1 sum, then the highest threshold (tools.lid_report.choose_thresholds). A hand edit fails here."""
    import re

    from corpus_tools.core.languages import read_tsv, registry
    from tools.lid_report import THRESHOLD_CHOICES

    rows = read_tsv(ROOT / "language_ids" / "lid_thresholds.tsv")
    assert [r["label"] for r in rows] == list(registry())
    for r in rows:
        figures = {float(t): (int(held), float(total)) for t, held, total in
                   re.findall(r"(\d\.\d): (\d) within 1 pt, F1 sum (\d+\.\d+)", r["source"])}
        assert sorted(figures) == sorted(THRESHOLD_CHOICES), r
        best = max(THRESHOLD_CHOICES, key=lambda t: figures[t])
        assert float(r["min_score"]) == best, r


def test_gold_labels_all_three_backends_contradict_are_listed_outside_confusable_neighbours(tmp_path):
    """EVAL.md lists a source's language when all three backends name one other language on >= 10 % of its
    rows (Tatoeba's `sl` rows that are Slovak); a confusable neighbour (Bosnian read as Croatian), a
    non-target gold language, a share under 10 % and backends that disagree are not listed."""
    from tools.lid_report import BACKENDS, contradicted_gold

    rows = ([("sl", "slk_Latn")] * 3 + [("sl", "slv_Latn")] * 7      # 30 %: listed
            + [("bs", "hrv_Latn")] * 5                                 # a neighbour: not listed
            + [("gag", "tur_Latn")] * 5                                # not a target: not listed
            + [("fi", "est_Latn")] + [("fi", "fin_Latn")] * 19)        # a neighbour, and 5 %
    source = tmp_path / "x.tsv"
    source.write_text("iso639_1\ttext\n", encoding="utf-8")
    outs = {b: [[(label, 0.9)] for _, label in rows] for b in BACKENDS}
    outs[BACKENDS[0]].append([("deu_Latn", 0.9)])                      # one more `de` row the others disagree on
    for b in BACKENDS[1:]:
        outs[b].append([("eng_Latn", 0.9)])
    d = {"name": "x.tsv", "path": source, "gold": [g for g, _ in rows] + ["en"], "outs": outs}
    assert contradicted_gold([d]) == ["| x.tsv | sl | 10 | sk | 3 |"]
