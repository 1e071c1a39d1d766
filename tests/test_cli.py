"""The CLI: version, help on every command, and one-line errors (exit 2, no traceback) for bad input."""

from __future__ import annotations

import os
import re

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
