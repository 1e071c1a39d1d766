"""Re-read one WARC/ARC record from its pointer and verify its digests: what every audit starts from.

    from corpus_tools.readers.record import fetch_record
    rec = fetch_record("s3://bucket/crawl.warc.gz", offset=1234, length=5678)
    rec.digest_ok      # True / False / None (no digest to check)

`fetch_record` makes exactly one range read (`storage.read_range`, local path or s3://) of the bytes the
reader stored as `warc_offset` / `warc_length`, parses the single record in them with warcio and checks
`WARC-Payload-Digest` (and `WARC-Block-Digest`) in every encoding warcio accepts (base32, hex, base64).

Digest semantics (WARC 1.1 sec. 5.9, as warcio and the real crawls in ../shared/data/warc compute it): the
payload digest covers the HTTP entity body *as transmitted*, i.e. still chunked and still gzip-encoded;
the block digest covers everything after the WARC headers. `payload` in the result is the usable body:
de-chunked and content-decoded (gzip, deflate, br). A revisit record's payload digest names the
original capture, so it is reported but not checked.

CLI: `corpus warc get WARC_PATH --offset N --length M` (see `readers/cli.py`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from dataclasses import dataclass, field

from warcio.bufferedreaders import BufferedReader, ChunkedDataReader

from corpus_tools.core import storage
from corpus_tools.readers import decode as _decode  # noqa: F401  (registers the br decoder with warcio)
from corpus_tools.core.errors import InputError
from corpus_tools.readers.warc import QuietArchiveIterator as ArchiveIterator

# Cap on one pointer's length: a record bigger than this is not something to re-read into memory (bytes).
MAX_FETCH_BYTES = 1 << 30


@dataclass
class FetchedRecord:
    """One record re-read from its pointer. Header dicts join repeated names with ', '."""

    rec_type: str
    rec_headers: dict[str, str]  # WARC (or ARC) header names as written in the file
    http_headers: dict[str, str] | None  # lower-cased names; None when the record carries no HTTP message
    http_status: int | None  # responses and revisits only
    payload: bytes  # HTTP body after de-chunking and content-decoding (the block when not HTTP)
    digests: dict[str, dict] = field(default_factory=dict)  # "sha1", "block:sha1" -> {expected, actual, ok}
    digest_ok: bool | None = None  # False if any checked digest differs; None if nothing could be checked
    raw_body: bytes = b""  # the payload as transmitted (what WARC-Payload-Digest covers)


def _header_dict(pairs) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _decode_digest_value(value: str, size: int) -> bytes | None:
    """A digest value in base32, hex or base64 (RFC 3548; WARC allows any) -> raw bytes, None if unreadable."""
    value = value.strip()
    for decode in (lambda v: base64.b32decode(v, casefold=True),
                   lambda v: base64.b16decode(v, casefold=True),
                   lambda v: base64.b64decode(v, altchars=b"-_" if ("-" in v or "_" in v) else None, validate=True)):
        try:
            raw = decode(value)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == size:
            return raw
    return None


def check_digest(header: str | None, data: bytes) -> tuple[str, dict] | None:
    """('sha1', {expected, actual, ok}) for a `algo:value` header, or None when there is nothing to check.

    `actual` is written in the header's encoding (base32, hex or base64) so the two compare by eye.
    An unknown algorithm gives ok=None; an unreadable value gives ok=False.
    """
    if not header or ":" not in header:
        return None
    algo, _, value = header.partition(":")
    algo = algo.strip().lower().replace("-", "")
    try:
        h = hashlib.new(algo, data)
    except (ValueError, TypeError):
        return algo, {"expected": header, "actual": None, "ok": None}
    raw = _decode_digest_value(value, h.digest_size)
    digest = h.digest()
    value = value.strip()
    if len(value) == 2 * h.digest_size:  # hex, as some tools write it
        shown = digest.hex()
    elif len(value) < len(base64.b32encode(digest)):  # base64
        shown = base64.b64encode(digest).decode("ascii")
    else:
        shown = base64.b32encode(digest).decode("ascii")
    actual = f"{algo}:{shown}"
    return algo, {"expected": header.strip(), "actual": actual, "ok": raw == digest if raw else False}


def decode_body(raw: bytes, http_headers: dict[str, str] | None) -> bytes:
    """Undo chunked transfer encoding and content encoding (gzip, deflate, br), the way warcio reads a body.

    A body that claims an encoding but is not actually encoded comes back as is (warcio's fallback), so a
    mislabelled page stays readable.
    """
    if not http_headers:
        return raw
    enc = (http_headers.get("content-encoding") or "").strip().lower() or None
    if enc not in BufferedReader.get_supported_decompressors():
        enc = None
    if (http_headers.get("transfer-encoding") or "").strip().lower() == "chunked":
        reader = ChunkedDataReader(io.BytesIO(raw), decomp_type=enc)
    elif enc:
        reader = BufferedReader(io.BytesIO(raw), decomp_type=enc)
    else:
        return raw
    return reader.read()


def _block(data: bytes) -> bytes | None:
    """The record block (all bytes after the WARC headers) exactly as stored, for WARC-Block-Digest."""
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data), no_record_parse=True, check_digests=False)))
        return record.raw_stream.read()
    except Exception:
        return None


def parse_record(data: bytes) -> FetchedRecord:
    """Parse bytes holding exactly one (optionally gzipped) WARC or ARC record. InputError if they do not."""
    it = ArchiveIterator(io.BytesIO(data), arc2warc=False, check_digests=False)
    try:
        record = next(iter(it))
    except StopIteration:
        raise InputError("no WARC record at that offset: check --offset and --length against the index") from None
    except Exception as e:  # warcio raises many types on bytes that are not a record
        raise InputError(f"no readable WARC record at that offset ({type(e).__name__}: {e}); check --offset") from None
    try:
        raw = record.raw_stream.read()
        missing = getattr(record.raw_stream, "limit", 0)
    except Exception as e:
        raise InputError(f"the record at that offset is damaged ({type(e).__name__}: {e})") from None
    if missing:
        raise InputError(f"the record is cut short by {missing} bytes: --length is too small or the file is truncated")
    try:
        consumed = it.get_record_length()
        extra = next(iter(it), None)
    except Exception:
        consumed, extra = None, None
    if extra is not None:
        raise InputError("those bytes hold more than one record: --length is too large")
    if consumed is not None and consumed < len(data) - 4:
        # trailing bytes that are not the record separator mean the pointer is wrong
        raise InputError(f"only {consumed} of {len(data)} bytes are the record: --length is too large")

    rec_type = record.rec_type or "unknown"
    if rec_type == "arc_header":  # the reader (arc2warc) calls an ARC file header what it is: warcinfo
        rec_type = "warcinfo"
    rec_headers = _header_dict(record.rec_headers.headers)
    http = None
    status = None
    if record.http_headers is not None:
        http = {}
        for name, value in record.http_headers.headers:
            key = name.lower()
            http[key] = f"{http[key]}, {value}" if key in http else value
        if rec_type in ("response", "revisit"):
            try:
                status = int(record.http_headers.get_statuscode())
            except (ValueError, TypeError):
                status = None
    try:
        payload = decode_body(raw, http)
    except Exception:  # a body whose declared encoding is broken: hand back the bytes as transmitted
        payload = raw

    digests: dict[str, dict] = {}
    if rec_type != "revisit":  # a revisit's payload digest is the original capture's
        for name, value in record.rec_headers.headers:
            if name.lower() == "warc-payload-digest":
                got = check_digest(value, raw)
                if got:
                    digests[got[0]] = got[1]
    block_headers = [v for n, v in record.rec_headers.headers if n.lower() == "warc-block-digest"]
    block = _block(data) if block_headers else None
    for value in block_headers:
        got = check_digest(value, block) if block is not None else None
        if got:
            digests[f"block:{got[0]}"] = got[1]
    checked = [d["ok"] for d in digests.values() if d["ok"] is not None]
    digest_ok = all(checked) if checked else None
    return FetchedRecord(rec_type=rec_type, rec_headers=rec_headers, http_headers=http, http_status=status,
                         payload=payload, digests=digests, digest_ok=digest_ok, raw_body=raw)


def fetch_record(url: str, offset: int, length: int) -> FetchedRecord:
    """Range-read `length` bytes at `offset` of `url` (local or s3://) and parse the one record in them."""
    if offset < 0 or length <= 0:
        raise InputError(f"bad pointer offset={offset} length={length}: offset >= 0 and length > 0 are required")
    if length > MAX_FETCH_BYTES:
        raise InputError(f"length {length} is over {MAX_FETCH_BYTES} bytes: that is not one record's pointer")
    if not storage.is_s3(url):
        import os

        if not os.path.isfile(url):
            raise InputError(f"WARC file not found: {url}")
    data = storage.read_range(url, offset, length)  # retried inside on S3 connection errors
    if len(data) < length:
        raise InputError(f"{url} ends {length - len(data)} bytes before offset+length: check the pointer")
    return parse_record(data)
