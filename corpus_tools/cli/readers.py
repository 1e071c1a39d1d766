"""`corpus warc ...`: look at WARC records from the command line.

    corpus warc get WARC_PATH --offset N --length M [--max-bytes B] [--raw]

`get` range-reads one record (local path or s3://, the pointer the reader stored as warc_offset /
warc_length), prints its WARC headers, HTTP headers and payload, and verifies WARC-Payload-Digest and
WARC-Block-Digest. Exit code 1 with one line on stderr when a digest does not match.
"""

from __future__ import annotations

import sys

import click

from corpus_tools.core.errors import VerificationError


@click.group("warc")
def warc_group():
    """Inspect WARC records (re-read a record from its pointer, verify its digests)."""


@warc_group.command("get")
@click.argument("warc_path")
@click.option("--offset", type=int, required=True, help="Byte offset of the record (warc_offset).")
@click.option("--length", type=int, required=True, help="Byte length of the record (warc_length).")
@click.option("--max-bytes", type=int, default=65536, show_default=True,
              help="Print at most this many payload bytes (0 = headers only, -1 = all).")
@click.option("--raw", is_flag=True, help="Print the payload as transmitted (still chunked / compressed).")
@click.option("--s3-endpoint", default=None, help="Endpoint URL of an S3-compatible store (sets S3_ENDPOINT_URL).")
def get_cmd(warc_path, offset, length, max_bytes, raw, s3_endpoint):
    """Range-read one record of WARC_PATH (local or s3://), verify its digests, print it."""
    from corpus_tools.core import s3fs_lite
    from corpus_tools.readers.record import fetch_record

    s3fs_lite.set_s3_endpoint(s3_endpoint)
    rec = fetch_record(warc_path, offset, length)
    out = sys.stdout.buffer
    for name, value in rec.rec_headers.items():
        out.write(f"{name}: {value}\n".encode("utf-8", "replace"))
    out.write(b"\n")
    if rec.http_headers is not None:
        if rec.http_status is not None:
            out.write(f"HTTP status: {rec.http_status}\n".encode())
        for name, value in rec.http_headers.items():
            out.write(f"{name}: {value}\n".encode("utf-8", "replace"))
        out.write(b"\n")
    for algo, d in rec.digests.items():
        verdict = {True: "ok", False: "MISMATCH", None: "not checked"}[d["ok"]]
        out.write(f"digest {algo}: {verdict} (expected {d['expected']}, actual {d['actual']})\n".encode())
    if rec.digests:
        out.write(b"\n")
    body = rec.raw_body if raw else rec.payload
    if max_bytes != 0:
        shown = body if max_bytes < 0 else body[:max_bytes]
        out.write(shown)
        if shown and not shown.endswith(b"\n"):
            out.write(b"\n")
        if 0 < max_bytes < len(body):
            out.write(f"\n[... {len(body) - max_bytes} more bytes; --max-bytes -1 prints all]\n".encode())
    out.flush()
    if rec.digest_ok is False:
        bad = ", ".join(f"{a} expected {d['expected']} got {d['actual']}" for a, d in rec.digests.items() if d["ok"] is False)
        raise VerificationError(f"digest mismatch in {warc_path} at offset {offset}: {bad}")
