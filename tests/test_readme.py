"""The README's examples, run as written: every shell block of README.md is executed here or listed below
with the reason it is not.

A shell block is a fence tagged `sh`, `bash` or `console`, or a 4-space indented code block; an untagged
fence that holds a command fails the suite (tag it `sh`, or `text` when it is not a command). In a `sh`
block a line is a command (a trailing `\\` continues it), and the `# ...` lines right after a command (no
blank line between) are its shown output; in a `console` block commands start with `$ ` and the lines
after them are output. Each block runs in its own temp folder laid out like a checkout's root:
`out/sample` is a copy of the session's sample run (the `make run` command, `sample_run` in conftest.py),
`../shared` is the shared data, `corpus` and `python` come from the venv first on PATH, and
`PUBLISHED_ROOT` holds the sample release's `merkle_root` (what its maker would have published).

Every command must exit 0, and its stdout and stderr must show every shown output line, in order. A shown
line matches an output line when its parts between `...` (or `…`) appear in it in order, whitespace
collapsed; two things are read as "any value of that kind", because they differ from run to run by design:
hex ids of 8 or more characters (run ids, release ids, roots: they hash the output path and the code) and
durations (`3.02 s`). Every other figure (counts, thresholds, measured values) must be the same.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent

# Blocks that are not run, by their first command (without its trailing comment), and why.
SKIPPED_BLOCKS = {
    "make run": "`make run` is the `sample_run` fixture's command (conftest.py: `corpus run eu_web --input "
                "tests/data/sample-crawl --workers 2`), whose output every block here reads as out/sample; "
                "`make test` is this suite",
    "corpus run eu_web --input ../shared/data/warc/dev --output out/dev --workers 2":
        "long runs: the 6 MB dev crawl takes minutes on two cores (the same command on the sample crawl is "
        "the `sample_run` fixture); the second line needs a user's crawl (crawl/**/*.warc.gz)",
    "corpus run eu_web --input crawl/ --output out/crawl --robots crawl-robotstxt/":
        "external data: a user's crawl and its robots.txt captures (tests/rights/ runs the same options on "
        "real robots.txt WARCs)",
    "corpus run eu_web --input crawl/ --output out/strict --param policy=manifests/policy-strict-v1.json":
        "external data: a user's crawl and its release out/crawl (tests/rights/test_notice_policies.py runs "
        "both policies)",
    "# a local Ray (N CPUs = --workers), started for the run and stopped after it":
        "Ray and S3: a Ray cluster, S3 buckets and the 6 MB dev crawl (tests/cluster/, `pytest -m cluster`)",
    "corpus run eu_web --input new-crawl/ --output out/2026-12 --param dedup_index=out/2026-11":
        "external data: a second crawl and an earlier release (tests/dedup/ runs a dedup against an index)",
}
# Commands of otherwise executed blocks that are not run, by their first line (without the comment).
SKIPPED_COMMANDS = {
    "corpus warc get s3://bucket/crawl/a.warc.gz --offset 1234 --length 5678 --max-bytes 0 --s3-endpoint "
    "http://S3HOST:9000": "S3: needs a store holding the file (tests/test_storage.py reads ranges from a real one)",
    "corpus lid eval ../shared/data/lid/ud_treebanks.tsv": "long run: 37,000 lines through the cascade "
                                                           "(`make lid-eval` runs it)",
    "make lid-eval": "long run (minutes); rewrites language_ids/EVAL.md in the checkout",
    ".venv/bin/python -m tools.lid_report --fit": "long run (minutes); rewrites "
                                                          "language_ids/lid_combiner.json in the checkout",
    "corpus stage dedup --input out/crawl2 --output out/crawl2-dedup --param index=out/sample":
        "external data: a second release out/crawl2",
    "corpus train data/fi-et --out ckpt/fi-et": "long run: the `small` config trains 2000 steps (tens of "
                                                "minutes on CPU); tests/train/ trains the `tiny` config",
    "corpus train data/fi-et --out ckpt/fi-et --steps 4000": "long run: resumes the run above to 4000 steps",
    "corpus train data/fi-et --out ckpt/fi-et --export-int8": "needs the trained checkpoint above "
                                                              "(tests/train/ exports int8 from a tiny one)",
}
# Files a user writes before a command, as the README tells them to: (first line of the command) -> setup.


def _my_policy(work: Path) -> None:
    """"Copy manifests/policy-v2.json, give it a new policy_version, edit it": opted-out pages dropped."""
    policy = json.loads((ROOT / "manifests" / "policy-v2.json").read_text())
    policy.update(policy_version="my-policy-v1", optout_action="drop")
    (work / "my-policy.json").write_text(json.dumps(policy, indent=2))


SETUP = {
    "corpus stage rights --input out/sample --output out/sample-drop --param policy=my-policy.json": _my_policy,
}

_COMMAND_START = re.compile(r"(corpus|make|python|\.venv/bin/\S+|ray|pip)\s")


@dataclass
class Command:
    text: str
    shown: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return _key(self.text.splitlines()[0])


@dataclass
class Block:
    line: int  # 1-based line of the block's first content line in README.md
    lang: str
    lines: list[str]
    commands: list[Command] = field(default_factory=list)

    @property
    def key(self) -> str:
        first = next((ln for ln in self.lines if ln.strip()), "")
        return _key(first[2:] if self.lang == "console" and first.startswith("$ ") else first)


def _key(line: str) -> str:
    """A line without its trailing `  # comment`, whitespace collapsed (a whole-line comment stays)."""
    line = line.strip()
    if not line.startswith("#"):
        line = re.split(r"\s+#\s", line, maxsplit=1)[0]
    return " ".join(line.rstrip("\\").split())


def read_blocks(text: str) -> tuple[list[Block], list[str]]:
    """The README's shell blocks, and a problem line for each untagged fence that holds a command."""
    blocks, problems = [], []
    lines = text.splitlines()
    i, prev_blank = 0, True
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if m:
            indent, lang = len(m.group(1)), m.group(2)
            j = i + 1
            while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                j += 1
            body = [ln[indent:] for ln in lines[i + 1:j]]
            if lang in ("sh", "bash", "console"):
                blocks.append(Block(i + 2, lang, body))
            elif not lang and any(_COMMAND_START.match(ln.strip()) for ln in body):
                problems.append(f"README.md:{i + 1}: an untagged block holds a command: tag it ```sh")
            i, prev_blank = j + 1, False
            continue
        if prev_blank and lines[i].startswith("    ") and lines[i].strip():
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            body = [ln[4:] for ln in lines[i:j]]
            while body and not body[-1].strip():
                body.pop()
            if any(_COMMAND_START.match(ln.strip()) for ln in body):
                blocks.append(Block(i + 1, "sh", body))
            i, prev_blank = j, False
            continue
        prev_blank = not lines[i].strip()
        i += 1
    for block in blocks:
        block.commands = _commands(block)
    return blocks, problems


def _commands(block: Block) -> list[Command]:
    commands: list[Command] = []
    if block.lang == "console":
        for ln in block.lines:
            if ln.startswith("$ "):
                commands.append(Command(ln[2:]))
            elif commands and ln.strip():
                commands[-1].shown.append(ln)
        return commands
    after_command, pending = False, ""
    for ln in block.lines:
        stripped = ln.strip()
        if not stripped:
            after_command = False
        elif pending:
            pending += "\n" + ln
            if not stripped.endswith("\\"):
                commands.append(Command(pending))
                pending, after_command = "", True
        elif stripped.startswith("#"):
            if after_command:
                commands[-1].shown.append(stripped[1:])
        elif stripped.endswith("\\"):
            pending = ln
        else:
            commands.append(Command(ln))
            after_command = True
    return commands


_HEX = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b")
_DURATION = re.compile(r"\b\d+(\.\d+)?\s?s\b")


def _normalise(line: str) -> str:
    line = line.replace("…", "...")
    line = _HEX.sub("<hex>", line)
    line = _DURATION.sub("<duration>", line)
    return " ".join(line.split())


def _line_matches(shown: str, output_line: str) -> bool:
    at = 0
    for part in (p.strip() for p in _normalise(shown).split("...")):
        if not part:
            continue
        found = output_line.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def missing_shown_lines(shown: list[str], output: str) -> list[str]:
    """The shown lines the output lacks (each matched after the previous one); a bare `...` skips lines."""
    out = [_normalise(ln) for ln in output.splitlines()]
    missing, at = [], 0
    for want in shown:
        if not _normalise(want).strip(". "):
            continue
        hit = next((k for k in range(at, len(out)) if _line_matches(want, out[k])), None)
        if hit is None:
            missing.append(want.strip())
        else:
            at = hit + 1
    return missing


BLOCKS, PROBLEMS = read_blocks(README.read_text(encoding="utf-8"))


def test_every_command_block_is_tagged_and_every_listed_skip_exists():
    assert not PROBLEMS, "\n".join(PROBLEMS)
    block_keys = {b.key for b in BLOCKS}
    command_keys = {c.key for b in BLOCKS for c in b.commands}
    stale = [k for k in SKIPPED_BLOCKS if k not in block_keys]
    stale += [k for k in (*SKIPPED_COMMANDS, *SETUP) if k not in command_keys]
    assert not stale, f"listed here but no longer in README.md: {stale}"
    assert len(BLOCKS) >= 15 and sum(len(b.commands) for b in BLOCKS) >= 40


def test_the_reader_finds_commands_their_output_and_continuations():
    text = "\n".join([
        "```sh", "# a comment before", "corpus a --x  # note", "# out 1", "#   out 2", "",
        "corpus b \\", "    --y", "# out b", "", "# prose after a blank line", "```",
        "", "    corpus lid x", "", "```", "corpus c", "```",
        "```console", "$ corpus d", "shown d", "```",
    ])
    blocks, problems = read_blocks(text)
    assert problems == ["README.md:16: an untagged block holds a command: tag it ```sh"]
    assert [b.key for b in blocks] == ["# a comment before", "corpus lid x", "corpus d"]
    a, b = blocks[0].commands
    assert (a.key, a.shown, b.key, b.shown) == ("corpus a --x", [" out 1", "   out 2"], "corpus b", [" out b"])
    assert [(c.text, c.shown) for c in blocks[2].commands] == [("corpus d", ["shown d"])]


def test_shown_output_matching():
    out = "run 0123abcd4567ef89: read 273 records -> kept 58 in 2.91 s\nparent /tmp/x/out/sample (root 77f2…)\n"
    assert missing_shown_lines([" run fb4314df472ca287: read 273 records -> kept 58 in 3.02 s"], out) == []
    assert missing_shown_lines([" ...", " parent .../out/sample (root 77f2…)"], out) == []
    assert missing_shown_lines([" read 273 records -> kept 59"], out) == ["read 273 records -> kept 59"]
    # in order: a line shown after another must come after it
    assert missing_shown_lines([" parent ...", " run ..."], out) == ["run ..."]


def _workdir(tmp_path: Path, sample_run: Path) -> Path:
    """A folder laid out like the checkout's root: out/sample (a copy: commands must not change the shared
    run) and ../shared."""
    work = tmp_path / "work"
    (work / "out").mkdir(parents=True)
    shutil.copytree(sample_run, work / "out" / "sample", ignore=shutil.ignore_patterns("staging_tmp*"))
    (tmp_path / "shared").symlink_to(ROOT.parent / "shared")
    return work


def _env(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "S3_", "AWS_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PUBLISHED_ROOT"] = json.loads((work / "out" / "sample" / "release.json").read_text())["merkle_root"]
    return env


# a block that runs a pipeline, a restage or an evaluation takes more than 20 s: marked slow
_SLOW_COMMAND = re.compile(r"^corpus (run|stage|lid eval|train)\b")


def _param(block: Block):
    slow = block.key not in SKIPPED_BLOCKS and any(
        _SLOW_COMMAND.match(c.text) for c in block.commands if c.key not in SKIPPED_COMMANDS)
    return pytest.param(block, id=f"L{block.line}:{block.key[:60]}", marks=[pytest.mark.slow] if slow else [])


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_block_runs_as_written(block, sample_run, tmp_path):
    if block.key in SKIPPED_BLOCKS:
        pytest.skip(SKIPPED_BLOCKS[block.key])
    work = _workdir(tmp_path, sample_run)
    env = _env(work)
    ran = 0
    for command in block.commands:
        if command.key in SKIPPED_COMMANDS:
            continue
        if command.key in SETUP:
            SETUP[command.key](work)
        proc = subprocess.run(["bash", "-c", command.text], cwd=work, env=env, capture_output=True, text=True,
                              timeout=600)
        output = proc.stdout + proc.stderr
        where = f"README.md:{block.line}: `{command.key}`"
        assert proc.returncode == 0, f"{where} exited {proc.returncode}:\n{output[-3000:]}"
        missing = missing_shown_lines(command.shown, output)
        assert not missing, f"{where}: output lacks the shown lines {missing}; it printed:\n{output[-4000:]}"
        ran += 1
    assert ran, f"README.md:{block.line}: every command is skipped: list the block in SKIPPED_BLOCKS instead"
