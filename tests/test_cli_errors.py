"""Every `corpus` command, given bad input, fails in one line on stderr that says the fix, with exit code 2:
missing or binary files, an unwritable output, an S3 endpoint that is down, missing S3 credentials, an S3
store that refuses access, malformed rows, a folder that is not a run. No traceback, no "internal error".

The commands come from the click group, so a new command fails `test_every_command_has_bad_input_cases`
until it gets its cases in CASES. Placeholders in a case: {missing} a path that does not exist, {png} a PNG
image, {blocked} a regular file (so `{blocked}/x` cannot be created), {out} a fresh output folder, {closed}
an S3 endpoint on a closed port, {denied} an S3 endpoint that answers 403 AccessDenied, {notrun} an empty
folder, {malformed} a dev TSV with a malformed row, {run} the sample run (only where the command must get
past reading a real release to meet the bad input).
"""

from __future__ import annotations

import http.server
import re
import threading

import click
import pytest

from corpus_tools.cli import main
from tests.conftest import SAMPLE_CRAWL, TEST_DATA, run_cli

WARC = SAMPLE_CRAWL / "warcfile.warc.gz"
S3 = "s3://corpus-test-bucket/out"
# the expected message per kind of case: it must say what is wrong
NOT_FOUND = r"not found|does not exist|no release|No such file"
UNWRITABLE = r"Not a directory|not writable|not a folder"
CLOSED = r"cannot reach the S3 endpoint http://127\.0\.0\.1:9"
NO_CREDS = r"no S3 credentials .*AWS_ACCESS_KEY_ID"
DENIED = r"refused access \((AccessDenied|403)\): check AWS_ACCESS_KEY_ID"
BINARY = r"not UTF-8|not a WARC|cannot read|not valid"

CASES: dict[tuple[str, ...], list[tuple[list[str], str]]] = {
    ("run",): [
        (["eu_web", "--input", "{missing}", "--output", "{out}"], NOT_FOUND),
        (["eu_web", "--input", str(WARC), "--output", "{blocked}/o"], UNWRITABLE),
        (["eu_web", "--input", f"{S3}/x.warc.gz", "--output", "{out}", "--s3-endpoint", "{closed}"], CLOSED),
        (["eu_web", "--input", f"{S3}/x.warc.gz", "--output", "{out}", "--s3-endpoint", "{closed}", "!nocreds"], NO_CREDS),
        (["eu_web", "--input", f"{S3}/x.warc.gz", "--output", "{out}", "--s3-endpoint", "{denied}"], DENIED),
        (["eu_web", "--input", str(WARC), "--output", "{out}", "--param", "policy={png}"], BINARY),
        (["eu_web", "--input", str(WARC), "--output", "{out}", "--robots", "{png}"], BINARY),
    ],
    ("report",): [(["{notrun}"], r"is not the output of a run"), (["{missing}"], NOT_FOUND),
                  ([S3, "--s3-endpoint", "{closed}"], CLOSED), ([S3, "--s3-endpoint", "{denied}"], DENIED)],
    ("warc", "get"): [
        (["{missing}", "--offset", "0", "--length", "10"], NOT_FOUND),
        (["{png}", "--offset", "0", "--length", "10"], r"no readable WARC record at that offset"),
        # (a closed port is retried with backoff for ~11 s before the same one line: covered by the commands above)
        ([f"{S3}/x.warc.gz", "--offset", "0", "--length", "10", "--s3-endpoint", "{denied}"], DENIED),
    ],
    ("pull",): [
        (["{missing}", "--to", "{out}"], NOT_FOUND + "|no release.json"),
        (["{missing}", "--to", "{blocked}/x"], UNWRITABLE),
        ([S3, "--to", "{out}", "--s3-endpoint", "{closed}"], CLOSED),
        ([S3, "--to", "{out}", "--s3-endpoint", "{closed}", "!nocreds"], NO_CREDS),
        ([S3, "--to", "{out}", "--s3-endpoint", "{denied}"], DENIED),
    ],
    ("train",): [
        (["{missing}", "--out", "{blocked}/x", "--config", "tiny", "--device", "cpu"], UNWRITABLE + "|train extra"),
        (["{notrun}", "--out", "{out}", "--config", "tiny", "--device", "cpu"], r"no Parquet shards|train extra"),
    ],
    ("audit", "verify"): [(["{missing}"], NOT_FOUND), ([S3, "--s3-endpoint", "{closed}"], CLOSED),
                          ([S3, "--s3-endpoint", "{denied}"], DENIED), (["{notrun}"], r"no release.json"),
                          (["{missing}", "--expect-root", "abc"], r"--expect-root 'abc' is not 64 hex digits")],
    ("audit", "trace"): [(["{missing}", "x"], NOT_FOUND), ([S3, "x", "--s3-endpoint", "{closed}"], CLOSED)],
    ("audit", "why"): [(["{missing}", "x"], NOT_FOUND), ([S3, "x", "--s3-endpoint", "{closed}"], CLOSED)],
    ("audit", "query"): [(["{missing}", "SELECT 1"], NOT_FOUND), ([S3, "SELECT 1", "--s3-endpoint", "{closed}"], CLOSED),
                         ([S3, "SELECT 1", "--s3-endpoint", "{closed}", "!nocreds"], NO_CREDS),
                         (["{notrun}", "SELECT 1", "--timeout", "0s"], r"--timeout '0s' is not a duration")],
    ("audit", "summary"): [(["{missing}"], NOT_FOUND), ([S3, "--s3-endpoint", "{closed}"], CLOSED)],
    ("audit", "takedown"): [(["{missing}", "--id", "x", "--output", "{blocked}/x"], UNWRITABLE),
                            (["{missing}", "--id", "x", "--output", "{out}"], NOT_FOUND),
                            ([S3, "--id", "x", "--output", "{out}", "--s3-endpoint", "{closed}"], CLOSED)],
    ("audit", "build"): [(["{notrun}"], r"has no shards/ or exclusions/"), ([S3, "--s3-endpoint", "{closed}"], CLOSED)],
    ("lid", "eval"): [(["{png}"], r"is not UTF-8 text"), (["{malformed}"], r"line 3 is not `iso639_1<TAB>text`"),
                      (["{missing}"], NOT_FOUND)],
    ("lid", "eval-web"): [(["{missing}"], NOT_FOUND)],
    ("stages",): [(["--no-such-option"], r"No such option")],
    ("stage",): [
        (["quality", "--input", "{missing}", "--output", "{out}"], NOT_FOUND),
        (["quality", "--input", S3, "--output", "{out}", "--s3-endpoint", "{closed}"], CLOSED),
        (["quality", "--input", S3, "--output", "{out}", "--s3-endpoint", "{closed}", "!nocreds"], NO_CREDS),
        (["quality", "--input", S3, "--output", "{out}", "--s3-endpoint", "{denied}"], DENIED),
        (["quality", "--input", "{run}", "--output", "{out}", "--param", "thresholds={png}"], BINARY),
        (["quality", "--input", "{run}", "--output", "{blocked}/x"], UNWRITABLE),
    ],
}


def leaf_commands(group=main, prefix=()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from leaf_commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,)


class _Denied(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint whose every answer is 403 AccessDenied (as AWS answers a key without permission)."""

    def _deny(self):
        body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _deny

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def denied_endpoint():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Denied)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def s3_env(monkeypatch):
    """Credentials that look valid; every S3 setting restored after the test."""
    from corpus_tools.core import s3fs_lite

    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no credential lookup on the network
    s3fs_lite.reset_s3_client()
    yield
    s3fs_lite.reset_s3_client()


def _all_cases():
    present = set(leaf_commands())
    for command, cases in CASES.items():
        if command not in present:  # a command on its way in or out of the tree
            continue
        for i, (args, pattern) in enumerate(cases):
            yield pytest.param(command, args, pattern, id=f"{' '.join(command)}-{i}")


def test_every_command_has_bad_input_cases():
    missing = [" ".join(c) for c in leaf_commands() if c not in CASES]
    assert not missing, f"add bad-input cases for: {', '.join(missing)} (tests/test_cli_errors.py CASES)"


@pytest.mark.parametrize("command", list(leaf_commands()), ids=" ".join)
def test_unknown_option_is_one_line(command):
    result = run_cli(*command, "--no-such-option")
    _assert_one_line(result, r"No such option .--no-such-option.\. \(see `\w+ " + " ".join(command) + r" --help`\)")


@pytest.mark.parametrize("command,args,pattern", list(_all_cases()))
def test_bad_input_is_one_line_with_exit_2(command, args, pattern, tmp_path, s3_env, denied_endpoint, monkeypatch, request):
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    blocked = tmp_path / "a-file"
    blocked.write_text("a file, not a folder")
    (tmp_path / "notrun").mkdir()
    malformed = tmp_path / "dev.tsv"
    malformed.write_text((TEST_DATA / "lid" / "udhr_sample.tsv").read_text(encoding="utf-8").splitlines()[1] +
                         "\nfi\tHyvää päivää, maailma\nthis row has no tab\nde\tGuten Tag\n", encoding="utf-8")
    values = {"missing": tmp_path / "nope", "png": png, "blocked": blocked, "out": tmp_path / "out", "closed": "http://127.0.0.1:9",
              "denied": denied_endpoint, "notrun": tmp_path / "notrun", "malformed": malformed}
    if any("{run}" in a for a in args):
        values["run"] = request.getfixturevalue("sample_run")
    if "!nocreds" in args:
        args = [a for a in args if a != "!nocreds"]
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
        import boto3

        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches the credentials an earlier client found
    result = run_cli(*command, *[a.format(**values) for a in args])
    _assert_one_line(result, pattern)


def _assert_one_line(result, pattern):
    out = result.output
    assert "Traceback" not in out and "internal error" not in out, out
    assert result.exit_code == 2, f"exit {result.exit_code}: {out}"
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("error: ") and re.search(pattern, lines[0]), lines[0]


def test_refused_access_is_asked_once_and_said_in_one_line(s3_env, monkeypatch):
    """403 AccessDenied is an answer, not a transient failure: each call sends one request (no retry, in
    botocore or ours) and raises the InputError that says what to fix, including fsspec's `isfile`, which
    datatrove asks about completion markers (fsspec's default answers False for any error)."""
    from corpus_tools.core import s3fs_lite, storage
    from corpus_tools.core.errors import InputError

    requests = []

    class Counted(_Denied):
        def _deny(self):
            requests.append(self.command)
            super()._deny()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _deny

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s3fs_lite.set_s3_endpoint(f"http://127.0.0.1:{server.server_address[1]}")
        fs = s3fs_lite.S3FileSystem()
        calls = {"read": lambda: storage.read_bytes("s3://b/k"), "exists": lambda: storage.exists("s3://b/k"),
                 "isfile": lambda: fs.isfile("b/logs/completions/00000"),
                 "range": lambda: storage.read_range("s3://b/k", 0, 10),
                 "write": lambda: storage.write_bytes("s3://b/k", b"x"),
                 "list": lambda: storage.expand_inputs(["s3://b/crawl/"])}
        for name, call in calls.items():
            requests.clear()
            with pytest.raises(InputError, match=DENIED):
                call()
            assert len(requests) == 1, (name, requests)
    finally:
        server.shutdown()
