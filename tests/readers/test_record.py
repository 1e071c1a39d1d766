"""fetch_record and `corpus warc get`: every pointer the reader writes re-reads to exactly its record."""

from __future__ import annotations

import gzip

import pytest

from corpus_tools.core.errors import InputError
from corpus_tools.readers.record import check_digest, fetch_record
from corpus_tools.readers.warc import WarcRecordReader
from tests.conftest import WARC_REAL, run_cli

REAL_FILES = sorted(p for p in WARC_REAL.rglob("*") if p.name.endswith((".warc", ".warc.gz")) and ".wet." not in p.name)

# Records whose stored digest is genuinely wrong in the source file (warcio's `warcio check` agrees):
# pywb's deliberately altered copy, warcio's bad-digest test record, and ClueWeb09's conversion, which wrote
# the block digest into WARC-Payload-Digest.
KNOWN_BAD_DIGESTS = {("pywb/example-extra.warc", 3207), ("warcio/example-digest.warc", 0)}


def test_every_pointer_of_every_real_file_round_trips():
    docs = list(WarcRecordReader([str(p) for p in REAL_FILES]).run())
    assert len(docs) == 1167  # README's 1,169 includes the 2 records of whirlwind.warc.wet.gz, not a WARC input
    verified = 0
    for doc in docs:
        m = doc.metadata
        rel = m["warc_path"].split("/real/")[1]
        if (m.get("exclusion") or {}).get("reason") == "truncated_record":
            with pytest.raises(InputError, match="cut short"):
                fetch_record(m["warc_path"], m["warc_offset"], m["warc_length"])
            continue
        rec = fetch_record(m["warc_path"], m["warc_offset"], m["warc_length"])
        assert rec.rec_type == m["warc_type"], (rel, m["warc_offset"])
        if not rel.endswith(".arc.gz"):
            assert rec.rec_headers["WARC-Record-ID"] == m["warc_record_id"]
        assert rec.http_status == m["http_status"]
        if rel.startswith("resiliparse/clueweb-quirk") and rec.rec_type == "response":
            assert rec.digests["sha1"]["ok"] is False and rec.digests["block:sha1"]["ok"] is True
        elif (rel, m["warc_offset"]) in KNOWN_BAD_DIGESTS:
            assert rec.digest_ok is False
        else:
            assert rec.digest_ok is not False, (rel, m["warc_offset"], rec.digests)
            verified += rec.digest_ok is True
        if not doc.metadata.get("exclusion"):
            # the kept text came from exactly these payload bytes
            assert rec.payload, rel
    assert verified > 500


def test_chunked_payload_is_dechunked_and_digest_covers_the_transmitted_bytes():
    path = WARC_REAL / "warcio" / "example-iana.org-chunked.warc"
    rec = fetch_record(str(path), 405, 7970)
    assert rec.http_headers["transfer-encoding"] == "chunked"
    assert rec.raw_body.split(b"\r\n", 1)[0] == b"1c2a" or rec.raw_body[:1] in b"0123456789abcdef"
    assert rec.payload.startswith(b"<!doctype html>")
    assert b"\r\n0\r\n" not in rec.payload and not rec.payload.rstrip().endswith(b"0")
    assert rec.digests["sha1"]["ok"] is True and rec.digest_ok is True


def test_gzip_content_encoding_is_decoded(tmp_path):
    body = gzip.compress(b"<html><body>hallo welt</body></html>")
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n" + body
    warc = (b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Target-URI: http://x.test/\r\n"
            b"Content-Type: application/http;msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http)) + http + b"\r\n\r\n"
    f = tmp_path / "enc.warc"
    f.write_bytes(warc)
    rec = fetch_record(str(f), 0, len(warc) - 4)
    assert rec.payload == b"<html><body>hallo welt</body></html>" and rec.raw_body == body
    assert rec.digest_ok is None  # no digest header: nothing to check


def test_digest_encodings_and_mismatch():
    assert check_digest("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", b"")[1]["ok"] is True  # base32
    assert check_digest("sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", b"")[1]["ok"] is True  # hex
    assert check_digest("sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", b"")[1]["ok"] is True  # base64
    assert check_digest("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", b"x")[1]["ok"] is False
    assert check_digest("md17:abc", b"")[1]["ok"] is None
    assert check_digest(None, b"") is None


def test_bit_flip_in_payload_is_a_mismatch(tmp_path):
    src = (WARC_REAL / "warcio" / "example-iana.org-chunked.warc").read_bytes()
    i = 405 + src[405:].index(b"Internet Assigned Numbers")
    f = tmp_path / "flipped.warc"
    f.write_bytes(src[:i] + b"J" + src[i + 1:])
    rec = fetch_record(str(f), 405, 7970)
    assert rec.digest_ok is False and rec.digests["sha1"]["ok"] is False


def test_bad_pointers_are_one_line_input_errors():
    path = str(WARC_REAL / "warcio" / "example.warc.gz")
    with pytest.raises(InputError, match="not found"):
        fetch_record(path + ".missing", 0, 10)
    with pytest.raises(InputError, match="no readable WARC record|no WARC record"):
        fetch_record(path, 7, 300)
    with pytest.raises(InputError, match="more than one record|too large"):
        fetch_record(path, 0, 3816)
    with pytest.raises(InputError, match="bad pointer"):
        fetch_record(path, -1, 10)


def test_cli_get_prints_record_and_exits_1_on_mismatch():
    ok = run_cli("warc", "get", WARC_REAL / "warcio" / "example-iana.org-chunked.warc", "--offset", "405", "--length", "7970")
    assert ok.exit_code == 0, ok.output
    assert "WARC-Target-URI: http://www.iana.org/" in ok.output and "digest sha1: ok" in ok.output
    assert "<title>Internet Assigned Numbers Authority</title>" in ok.output
    bad = run_cli("warc", "get", WARC_REAL / "pywb" / "example-extra.warc", "--offset", "3207", "--length", "1987")
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines()[-1].startswith("error: digest mismatch")
    wrong = run_cli("warc", "get", WARC_REAL / "warcio" / "example.warc.gz", "--offset", "7", "--length", "300")
    assert wrong.exit_code == 2 and wrong.output.count("\n") == 1 and "Traceback" not in wrong.output
