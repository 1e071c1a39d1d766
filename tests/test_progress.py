"""Driver progress: a line per phase with tasks, documents, docs/s and ETA; silent when not on a terminal."""

from __future__ import annotations

import io
import sys

from corpus_tools.progress import PhaseProgress
from tests.conftest import WARC_REAL, run_cli


def test_progress_line_reads_the_executor_files(sample_run):
    progress = PhaseProgress("docs", str(sample_run / "logs" / "docs"), tasks=4)
    with progress:
        line = progress.line()
    assert line.startswith("docs: 4/4 tasks")
    docs = int(line.split("·")[1].split()[0])
    assert docs > 100 and "docs/s" in line and "ETA 0s" in line


def test_progress_is_printed_on_a_terminal_only(monkeypatch, tmp_path):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with PhaseProgress("docs", str(tmp_path), tasks=2, interval=0.05):
        pass
    assert "docs: 0/2 tasks" in tty.getvalue()
    result = run_cli("run", "eu_web", "--input", WARC_REAL / "warcio" / "example.warc.gz", "--output", tmp_path / "o")
    assert result.exit_code == 0 and "tasks ·" not in result.output
