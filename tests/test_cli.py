"""The CLI: version, help on every command, and one-line errors (exit 2, no traceback) for bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import click
import pytest

from corpus_tools import __version__
from corpus_tools.cli import main
from tests.conftest import ROOT, WARC_REAL, run_cli


def all_commands(group=main, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


def test_version():
    result = run_cli("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_python_dash_m_runs_the_command():
    """`python -m corpus_tools.cli` is the `corpus` command (benchmarks and scripts call it that way)."""
    out = subprocess.run([sys.executable, "-m", "corpus_tools.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


@pytest.mark.parametrize("command", list(all_commands()), ids=" ".join)
def test_every_command_has_help(command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_readme_mentions_every_command():
    readme = (ROOT / "README.md").read_text()
    for command in all_commands():
        assert f"corpus {' '.join(command)}" in readme, f"README does not mention `corpus {' '.join(command)}`"


def _one_line_error(result, pattern):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(pattern, lines[0]), lines[0]


def test_missing_input(tmp_path):
    _one_line_error(run_cli("run", "eu_web", "--input", tmp_path / "nope", "--output", tmp_path / "o"), r"input not found: .*nope")


def test_no_warc_files_matched(tmp_path):
    (tmp_path / "empty").mkdir()
    _one_line_error(run_cli("run", "eu_web", "--input", tmp_path / "empty", "--output", tmp_path / "o"), r"no WARC files matched")
    _one_line_error(run_cli("run", "eu_web", "--input", str(tmp_path / "*.warc.gz"), "--output", tmp_path / "o"), r"no WARC files matched")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_non_root(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    _one_line_error(run_cli("run", "eu_web", "--input", WARC_REAL / "warcio" / "example.warc.gz", "--output", ro / "o"), r"not writable")


def test_unwritable_output(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    _one_line_error(run_cli("run", "eu_web", "--input", WARC_REAL / "warcio" / "example.warc.gz", "--output", blocker / "o"), r"not writable")


def test_unknown_pipeline(tmp_path):
    _one_line_error(run_cli("run", "no_such_recipe", "--input", WARC_REAL, "--output", tmp_path / "o"), r"unknown pipeline .*eu_web")


# --- `corpus run`: parameters, configuration-safe resume, the output lock, OS errors ---------------------------

SMALL = WARC_REAL / "warcio" / "example.warc.gz"


def test_unknown_param_and_bad_value_are_refused_with_the_valid_ones(tmp_path):
    _one_line_error(run_cli("run", "eu_web", "--input", SMALL, "--output", tmp_path / "o", "--param", "nonsense=1"),
                    r"unknown --param nonsense: this recipe takes .*keep_other.*")
    _one_line_error(run_cli("run", "eu_web", "--input", SMALL, "--output", tmp_path / "o", "--param", "keep_other=maybe"),
                    r"keep_other='maybe' is not a boolean: give keep_other=true or keep_other=false")
    _one_line_error(run_cli("run", "eu_web", "--input", SMALL, "--output", tmp_path / "o", "--param", "dedup_tasks=x"),
                    r"dedup_tasks='x' is not an integer")
    assert not (tmp_path / "o").exists()  # refused before any work


def test_resume_with_another_configuration_is_refused_and_the_same_one_resumes(tmp_path):
    out = tmp_path / "o"
    args = ("run", "eu_web", "--input", SMALL, "--output", out, "--param", "dedup=false", "--no-report")
    assert run_cli(*args).exit_code == 0
    config = (out / "run-config.json").read_text()
    _one_line_error(run_cli(*args, "--param", "keep_other=true"),
                    r"made with another configuration \(--param keep_other \(default -> true\)\): re-run with --overwrite")
    _one_line_error(run_cli("run", "eu_web", "--input", SMALL, "--input", WARC_REAL / "warcio" / "example-digest.warc",
                            "--output", out, "--param", "dedup=false"), r"the input files or their sizes")
    assert run_cli(*args).exit_code == 0 and (out / "run-config.json").read_text() == config
    assert run_cli(*args, "--param", "keep_other=true", "--overwrite").exit_code == 0
    assert "keep_other" in (out / "run-config.json").read_text()


def test_a_changed_threshold_file_is_a_changed_configuration(tmp_path):
    from corpus_tools.run.driver import ROOT as REPO, _changed, run_config
    from corpus_tools.core.recipe import RunOptions

    opts = RunOptions(inputs=[str(SMALL)], output=str(tmp_path), files=[str(SMALL)])
    a = run_config("eu_web", opts)
    b = json.loads(json.dumps(a))
    b["language_ids"]["lid_thresholds.tsv"] = "0" * 16
    assert _changed(a, b) == ["language_ids/lid_thresholds.tsv"]
    assert (REPO / "language_ids" / "lid_thresholds.tsv").is_file() and "lid_thresholds.tsv" in a["language_ids"]
    assert "policy-v1.json" in a["manifests"]


def test_a_live_lock_refuses_and_a_stale_one_is_taken_over(tmp_path):
    import socket
    import subprocess

    out = tmp_path / "o"
    out.mkdir()
    holder = subprocess.Popen(["sleep", "60"])
    try:
        (out / ".lock").write_text(f"{socket.gethostname()} {holder.pid}\n")
        _one_line_error(run_cli("run", "eu_web", "--input", SMALL, "--output", out, "--overwrite"),
                        rf"in use by a running corpus run \(pid {holder.pid} on .*\): wait for it")
        assert (out / ".lock").exists()  # --overwrite did not delete a running run's output
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale, named in a warning, and taken over
    result = run_cli("run", "eu_web", "--input", SMALL, "--output", out, "--param", "dedup=false", "--no-report")
    assert result.exit_code == 0, result.output
    assert not (out / ".lock").exists()  # released at the end
    (out / ".lock").write_text("another-host 12345\n")
    _one_line_error(run_cli("run", "eu_web", "--input", SMALL, "--output", out), r"locked by a run on host another-host .*delete")


def test_disk_full_is_one_line_naming_the_path_and_exit_2(tmp_path):
    from tests.conftest import TEST_DATA

    out = tmp_path / "o"
    result = run_cli("run", TEST_DATA / "hostile" / "full_disk_recipe.py", "--input", SMALL, "--output", out, "--no-report")
    _one_line_error(result, rf"{out}: No space left on device: .*free")
