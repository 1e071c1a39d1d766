"""WarcRecordReader on real and deliberately broken files: formats, record types, encodings, damage."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc

from corpus_tools.readers.record import fetch_record
from corpus_tools.readers.warc import WarcRecordReader
from tests.conftest import TEST_DATA, WARC_REAL

BROKEN = TEST_DATA / "warc-broken"


def read(*paths, **kw):
    return list(WarcRecordReader([str(p) for p in paths], **kw).run())


def reason(doc):
    return (doc.metadata.get("exclusion") or {}).get("reason")


def evidence(doc):
    return json.loads((doc.metadata.get("exclusion") or {}).get("evidence") or "null")


def test_record_types_become_reasons_and_revisit_keeps_its_reference():
    docs = read(WARC_REAL / "warcio" / "example.warc.gz")
    assert [d.metadata["warc_type"] for d in docs] == ["warcinfo", "warcinfo", "response", "request", "revisit", "request"]
    assert [reason(d) for d in docs] == ["warc_type_warcinfo", "warc_type_warcinfo", None, "warc_type_request",
                                         "warc_type_revisit", "warc_type_request"]
    ev = evidence(docs[4])
    assert ev["refers_to_target"] == "http://example.com/" and ev["refers_to_date"] == "2017-03-06T04:02:06Z"
    assert "Example Domain" in docs[2].text


def test_resource_metadata_status_and_mime_reasons_on_real_crawls():
    reasons = {reason(d) for d in read(WARC_REAL / "ukwa" / "IAH-urls-wget.warc.gz", WARC_REAL / "netarchivesuite" / "NetarchiveSuite-netarkivet.warc.gz")}
    assert {"warc_type_resource", "warc_type_warcinfo", "http_status", "non_html", None} <= reasons
    mimes = {evidence(d)["mime"] for d in read(WARC_REAL / "netarchivesuite" / "NetarchiveSuite-netarkivet.warc.gz") if reason(d) == "non_html"}
    assert {"image/gif", "application/pdf"} <= mimes


def test_warc_versions_0_17_0_18_1_0_and_1_1():
    assert len(read(WARC_REAL / "ukwa" / "IAH-20080430204825-00000-blackbook-truncated.warc.gz")) == 23  # WARC/0.17
    assert len(read(WARC_REAL / "netarchivesuite" / "netarkivet-20081105135926-00000.warc.gz")) == 68  # WARC/0.18
    v10 = read(WARC_REAL / "warcio" / "example.warc.gz")
    v11 = read(BROKEN / "example-1.1.warc.gz")
    assert [reason(d) for d in v11] == [reason(d) for d in v10] and v11[2].text == v10[2].text


def test_arc_gzip_and_uncompressed():
    for name in ("example.arc.gz", "example.arc"):
        docs = read(BROKEN / name)
        assert [d.metadata["warc_type"] for d in docs] == ["warcinfo", "response"]
        page = docs[1]
        assert reason(page) is None and "Example Domain" in page.text and page.metadata["http_status"] == 200
        # ARC has no record id: it is derived from the pointer, so it is stable across runs
        assert page.metadata["warc_record_id"] == f"<urn:corpus:{BROKEN / name}#{page.metadata['warc_offset']}>"
        rec = fetch_record(str(BROKEN / name), page.metadata["warc_offset"], page.metadata["warc_length"])
        assert rec.rec_type == "response" and rec.payload.startswith(b"<!doctype html>")


def test_uncompressed_chunked_warc_has_no_chunk_size_artefacts():
    docs = read(WARC_REAL / "warcio" / "example-iana.org-chunked.warc")
    page = [d for d in docs if reason(d) is None][0]
    assert page.text.startswith("<!doctype html>") and page.text.rstrip().endswith("</html>")
    assert "\r\n1c2a" not in page.text and "\n0\r\n" not in page.text


def test_every_content_and_transfer_encoding_decodes_to_the_same_page():
    docs = read(BROKEN / "encodings.warc.gz")
    assert [d.metadata["url"].rsplit("/", 1)[1] for d in docs] == ["gzip", "deflate", "br", "chunked", "chunked-gzip", "mis-chunked"]
    assert all(reason(d) is None for d in docs), [evidence(d) for d in docs]
    assert len({d.text for d in docs}) == 1 and "Example Domain" in docs[0].text


def test_euc_jp_clueweb_decodes():
    docs = [d for d in read(WARC_REAL / "resiliparse" / "clueweb-quirk.warc.gz") if reason(d) is None]
    assert len(docs) == 29
    assert all(d.metadata["_charset"] == "http:euc_jp" for d in docs)
    assert sum(d.text.count("\ufffd") for d in docs) == 0
    assert sum(1 for d in docs for c in d.text if "\u3040" <= c <= "\u30ff") > 10_000  # kana, not mojibake


def test_oversized_payload_is_skipped_without_reading_it_into_memory(tmp_path):
    # incompressible, so the gzip member itself is ~30 MB (a run of one byte would inflate 1000x per block)
    body = b"<html><body>" + os.urandom(15 * 1024 * 1024).hex().encode() + b"</body></html>"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    head = (b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:big>\r\nWARC-Target-URI: http://big.test/\r\n"
            b"Content-Type: application/http;msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http))
    f = tmp_path / "big.warc.gz"
    f.write_bytes(gzip.compress(head + http + b"\r\n\r\n", compresslevel=1) + (WARC_REAL / "warcio" / "example.warc.gz").read_bytes())
    del body, http
    tracemalloc.start()
    docs = read(f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reason(docs[0]) == "oversized" and evidence(docs[0])["limit"] == 5_000_000
    assert len(docs) == 7 and reason(docs[3]) is None  # the next records still read, pointers intact
    assert peak < 8 * 1024 * 1024, peak


def test_truncated_member_keeps_records_before_and_writes_one_row():
    docs = read(BROKEN / "truncated-member.warc.gz", WARC_REAL / "warcio" / "example.warc.gz")
    first = [d for d in docs if d.metadata["warc_path"].endswith("truncated-member.warc.gz")]
    assert [d.metadata["warc_type"] for d in first] == ["warcinfo", "warcinfo", "response", "damaged"]
    row = first[-1]
    assert reason(row) == "corrupt_warc" and row.metadata["warc_offset"] == 2012
    assert evidence(row)["offset"] == 2012 and "cut off" in evidence(row)["error"]
    assert len(docs) == 4 + 6  # the next file is processed


def test_corrupt_member_is_one_row_and_reading_resumes_at_the_next_member():
    docs = read(BROKEN / "corrupt-member.warc.gz")
    assert [d.metadata["warc_type"] for d in docs] == ["warcinfo", "warcinfo", "damaged", "request", "revisit", "request"]
    row = docs[2]
    assert reason(row) == "corrupt_warc"
    assert (row.metadata["warc_offset"], row.metadata["warc_length"]) == (784, 1228)
    assert "\\x" not in evidence(row)["error"]  # no record bytes in the ledger
    assert [d.metadata["warc_offset"] for d in docs[3:]] == [2012, 2621, 3207]


def test_clipped_record_is_excluded_as_truncated():
    (doc,) = read(WARC_REAL / "resiliparse" / "clipped.warc.gz")
    assert reason(doc) == "truncated_record" and doc.text == ""
    assert evidence(doc)["missing_bytes"] == 13068


def test_missing_file_is_a_row_not_the_end_of_the_run(tmp_path):
    docs = read(tmp_path / "gone.warc.gz", WARC_REAL / "warcio" / "example.warc.gz")
    assert reason(docs[0]) == "corrupt_warc" and len(docs) == 7


def test_content_length_short_or_long_is_truncated_record_never_a_cut_page_or_an_extra_record():
    """tests/data/hostile/misframed.warc: a real page with Content-Length 300 bytes short, 120 bytes long, right."""
    docs = read(TEST_DATA / "hostile" / "misframed.warc")
    assert [d.metadata["url"].rsplit("=", 1)[1] for d in docs] == ["short", "long", "right"]  # no extra rows
    short, long_, right = docs
    assert reason(short) == reason(long_) == "truncated_record" and short.text == long_.text == ""
    assert evidence(short)["problem"] == "bytes after the declared end"
    assert evidence(long_)["problem"] == "the next record starts inside the declared length"
    assert reason(right) is None and right.text.rstrip().endswith("</html>")


def test_misframed_records_in_gzip_members_too(tmp_path):
    import gzip as gz

    raw = (TEST_DATA / "hostile" / "misframed.warc").read_bytes()
    records = [b"WARC/1.0\r\n" + r for r in raw.split(b"WARC/1.0\r\n") if r]
    assert len(records) == 3
    path = tmp_path / "misframed.warc.gz"
    path.write_bytes(b"".join(gz.compress(r, mtime=0) for r in records))
    docs = read(path)
    assert [reason(d) for d in docs] == ["truncated_record", "truncated_record", None]
