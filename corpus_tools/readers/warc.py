"""`WarcRecordReader`: WARC/ARC files -> one document per record, provenance set once, nothing lost.

Every record read becomes a document. HTTP responses with an HTML payload carry the decoded HTML in
`doc.text` for the next stage; every other record (request, metadata, warcinfo, resource, conversion,
revisit, non-HTML, HTTP status other than 200, oversized, truncated) is marked excluded with a reason and
flows to the exclusions ledger. Damage (a corrupt or cut-off gzip member, bytes that are no record) becomes one
ledger row per damaged region (file, offset, length, error); the records before it are kept, reading resumes
at the next record that parses, and a broken or missing file never ends the run. Every kept or excluded
record carries `warc_offset` / `warc_length`, the exact bytes `readers.record.fetch_record` re-reads.

Usage inside a pipeline: `WarcRecordReader(files=[...], max_payload_bytes=5_000_000)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from warcio.archiveiterator import ArchiveIterator

from corpus_tools.core import storage
from corpus_tools.core.document import exclude
from corpus_tools.core.errors import describe_error
from corpus_tools.readers.decode import decode_html
from corpus_tools.core.urls import registered_domain

STAGE = "read"
HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_LANG = re.compile(r"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)", re.I)


class QuietArchiveIterator(ArchiveIterator):
    """warcio's iterator without its stderr warning that quotes the bytes after a record whose
    Content-Length looks wrong: those bytes may be personal data and must not reach logs."""

    INC_RECORD = ""


def stable_id(record_id: str) -> str:
    """Document id: the first 32 hex digits of sha256(WARC-Record-ID); stable across runs and machines."""
    return hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:32]


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def http_header_dict(record) -> dict[str, str]:
    """HTTP headers with lower-cased names; repeated headers joined by ', ' (RFC 9110 field combination)."""
    out: dict[str, str] = {}
    if record.http_headers is None:
        return out
    for name, value in record.http_headers.headers:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


class WarcRecordReader(PipelineStep):
    """Read WARC/ARC files (local or s3://), one task = every world_size-th file of the sorted list.

    files: input URLs, already expanded and sorted (see `storage.expand_inputs`).
    max_payload_bytes: records whose declared length exceeds this are skipped unread, default 5 MB.
    limit: stop each task after this many records (-1 = no limit); for dry runs.
    """

    type = "reader"
    name = "WarcRecordReader"

    def __init__(self, files: list[str], max_payload_bytes: int = 5_000_000, limit: int = -1):
        super().__init__()
        self.files = list(files)
        self.max_payload_bytes = max_payload_bytes
        self.limit = limit
        self._arc = False  # the file being read is ARC (its records get pointer-derived ids)
        self._short_end: int | None = None  # end of a record whose Content-Length was too short
        self._overlong = False  # the last record's Content-Length ran into the next record

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        n = 0
        for path in self.files[rank::world_size]:
            for doc in self.read_file(path):
                self.stat_update("records_read")
                yield doc
                n += 1
                if 0 <= self.limit <= n:
                    return

    def read_file(self, path: str):
        """Every record of one file; damage becomes one ledger row per damaged region, then reading resumes
        at the next record that parses (gzip member or `WARC/` line), so one bad member costs one record."""
        start, self._arc = 0, path.endswith((".arc", ".arc.gz"))
        while start is not None:
            start = yield from self._read_from(path, start)

    def _read_from(self, path: str, start: int):
        """Read records from byte `start`; return where to resume after damage, or None when the file is done."""
        try:
            with self.track_time():
                stream = _TrackedStream(storage.open_read(path, start), start)
        except Exception as e:  # a file that vanished or cannot be opened is damage, not the end of the run
            self.stat_update("read.corrupt_warc")
            yield self._damage(path, start, e, length=None)
            return None
        with contextlib.closing(stream):
            it = QuietArchiveIterator(stream, arc2warc=True, check_digests=False)
            end_of_last = start
            error: Exception | None = None
            self._short_end, self._overlong = None, False
            try:
                for record in it:
                    if start == 0 and end_of_last == 0 and stream.head is not None:
                        self._arc = _is_arc(stream.head)
                    doc = self._document(path, it, record)
                    off, length = doc.metadata["warc_offset"], doc.metadata["warc_length"]
                    if off < end_of_last or length <= 0:
                        # damaged gzip framing can make warcio count backwards; a pointer that cannot be
                        # re-read is worthless, so the region becomes damage and the scan moves forward
                        raise ValueError(f"record boundaries lost (warcio reported offset {off}, length {length})")
                    end_of_last = off + length
                    if self._short_end is not None:
                        self._short_end = end_of_last
                    yield doc
                    if self._overlong:  # the next record starts inside this one: read it from its own start
                        return _find_next_record(path, off + 1)
                stream.drain()
            except Exception as e:  # warcio raises many types on damaged input; all are handled the same way
                error = e
            if error is None and stream.last_data_end <= end_of_last:
                return None
            if self._short_end == end_of_last:
                # the rest of a record whose Content-Length was too short: that record is already the
                # `truncated_record` row, so its leftover bytes are not counted as one more record
                return _find_next_record(path, end_of_last + 1)
            if error is None:
                error = EOFError(f"{stream.last_data_end - end_of_last} bytes after the last complete record "
                                 "are not a readable record (file cut off inside a record)")
        try:
            resume = _find_next_record(path, end_of_last + 1)
        except Exception:  # the file cannot even be scanned (e.g. S3 gone for good): the rest is one row
            resume = None
        self.stat_update("read.corrupt_warc")
        yield self._damage(path, end_of_last, error, length=(resume - end_of_last) if resume is not None else None)
        return resume

    def _document(self, path: str, it: ArchiveIterator, record) -> Document:
        h = record.rec_headers
        rec_type = record.rec_type or "unknown"
        content_type = record.http_headers.get_header("content-type") if record.http_headers else None
        status = None
        if record.http_headers is not None and rec_type in ("response", "revisit"):
            with contextlib.suppress(ValueError, TypeError):
                status = int(record.http_headers.get_statuscode())
        meta = {
            "url": h.get_header("WARC-Target-URI"),
            "warc_path": path,
            "warc_date": h.get_header("WARC-Date") or h.get_header("archive-date"),
            "payload_digest": h.get_header("WARC-Payload-Digest"),
            "http_status": status,
            "content_type": content_type,
            "warc_type": rec_type,
        }
        text, reason, evidence, payload = "", None, None, b""
        is_http_response = rec_type == "response" and record.http_headers is not None and status is not None
        declared = record.length or 0
        if not is_http_response:
            reason = f"warc_type_{rec_type}" if rec_type != "response" else "response_without_http"
            if rec_type == "revisit":
                evidence = {"refers_to": h.get_header("WARC-Refers-To"),
                            "refers_to_target": h.get_header("WARC-Refers-To-Target-URI"),
                            "refers_to_date": h.get_header("WARC-Refers-To-Date")}
        elif declared > self.max_payload_bytes:
            reason, evidence = "oversized", {"bytes": declared, "limit": self.max_payload_bytes}
        elif status != 200:
            reason, evidence = "http_status", {"status": status}
        elif _mime(content_type) not in HTML_TYPES and not (not content_type and self._sniff_html(record)):
            reason, evidence = "non_html", {"mime": _mime(content_type) or None}
        else:
            try:
                payload = record.content_stream().read(self.max_payload_bytes + 1)
            except Exception as e:  # bad content-encoding or truncated body
                payload, reason, evidence = b"", "bad_payload", {"error": type(e).__name__}
            if not reason:
                if len(payload) > self.max_payload_bytes:
                    reason, evidence = "oversized", {"bytes": len(payload), "limit": self.max_payload_bytes}
                else:
                    text, charset = decode_html(payload, content_type)
                    meta["_http_headers"] = http_header_dict(record)
                    meta["_charset"] = charset
                    m = _HTML_LANG.search(text[:8192])
                    meta["html_lang"] = m.group(1).lower().replace("_", "-") if m else None
        # the pointer is known only once the record has been read to its end
        misframed_before = it.err_count
        meta["warc_offset"] = it.get_record_offset()
        meta["warc_length"] = it.get_record_length()
        missing = getattr(record.raw_stream, "limit", 0) or 0
        problem = None
        if missing > 0:
            # the file (or gzip member) ends inside this record: a clipped or cut-off crawl, or a
            # Content-Length larger than the record
            problem = {"missing_bytes": missing}
        elif payload and not getattr(it.reader, "decompressor", None) and _EMBEDDED_RECORD.search(payload):
            # uncompressed WARC: the declared length runs into the next record's header
            problem, self._overlong = {"problem": "the next record starts inside the declared length"}, True
        elif it.err_count > misframed_before and not self._arc:
            # warcio found bytes, not the blank lines that end a record, where Content-Length said the record
            # ends: the declared length is short and the document would be cut mid-page
            problem, self._short_end = {"problem": "bytes after the declared end"}, meta["warc_offset"]
        if problem is not None:
            # a record whose framing is wrong is not kept cut or padded: it is the damage row for its bytes
            text, reason = "", "truncated_record"
            evidence = {"offset": meta["warc_offset"], "declared_bytes": declared, **problem}
            meta.pop("_http_headers", None)
            self.stat_update("read.truncated_record")
        record_id = h.get_header("WARC-Record-ID")
        if not record_id or self._arc:
            # ARC has no record id (warcio would invent a random one): derive it from the pointer instead
            record_id = f"<urn:corpus:{path}#{meta['warc_offset']}>"
        meta["warc_record_id"] = record_id
        meta["domain"] = registered_domain(meta["url"])
        self.stat_update(f"warc_type.{rec_type}")
        doc = Document(text=text, id=stable_id(record_id), metadata=meta)
        if reason:
            exclude(doc, STAGE, reason, rule=f"read_{reason}_v1", evidence=evidence)
        return doc

    @staticmethod
    def _sniff_html(record) -> bool:
        """No Content-Type header: look at the first bytes (WHATWG MIME sniffing, reduced to HTML)."""
        head = record.raw_stream.peek(512) if hasattr(record.raw_stream, "peek") else b""
        return bool(re.match(rb"\s*<(!doctype html|html|head|body)", head[:512], re.I))

    def _damage(self, path: str, offset: int, error: Exception, length: int | None) -> Document:
        """The ledger row for a damaged region: file, offset, length up to the next readable record, error."""
        record_id = f"<urn:corpus:{path}#{offset}>"
        meta = {"url": None, "warc_path": path, "warc_record_id": record_id, "warc_offset": offset,
                "warc_length": length, "warc_date": None, "payload_digest": None, "http_status": None,
                "content_type": None, "domain": None, "warc_type": "damaged"}
        doc = Document(text="", id=stable_id(record_id), metadata=meta)
        exclude(doc, STAGE, "corrupt_warc", rule="read_corrupt_warc_v1",
                evidence={"offset": offset, "length": length, "error": _describe(error)})
        return doc


def _describe(error: Exception) -> str:
    """Error type and message without the record bytes warcio quotes (they may be personal data)."""
    return describe_error(error, str(error).split(", first line")[0].split("first line:")[0])


class _TrackedStream:
    """Counts bytes (warcio derives offsets from `tell()`) and remembers where the last non-blank byte
    was, so a file that ends inside a record is noticed even when warcio stops without an error."""

    def __init__(self, raw, base: int):
        self.raw, self.pos, self.last_data_end = raw, base, base
        self.head: bytes | None = None  # the first bytes read, to tell ARC from WARC

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if data:
            if self.head is None:
                self.head = data[:4096]
            stripped = len(data.rstrip(b"\r\n \t\x00"))
            if stripped:
                self.last_data_end = self.pos + stripped
            self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    def close(self) -> None:
        self.raw.close()


_GZIP_MAGIC = b"\x1f\x8b\x08"
# the end of one record and the header of the next, inside a payload whose Content-Length was too long
_EMBEDDED_RECORD = re.compile(rb"\r?\n\r?\nWARC/[01]\.[0-9]+\r?\n(?:[A-Za-z-]+: [^\r\n]*\r?\n){0,20}?WARC-(?:Type|Record-ID): ")


def _is_arc(head: bytes) -> bool:
    """ARC files open with a `filedesc://` record (warcio's arc2warc hides the format from the records)."""
    if head.startswith(_GZIP_MAGIC):
        import zlib

        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return False
    return head.lstrip().startswith(b"filedesc://")
_WARC_LINE = re.compile(rb"(?:^|\n)(WARC/[01]\.[0-9]+\r?\n)")
_SCAN_BLOCK = 1 << 20


def _looks_like_record_start(path: str, pos: int, data: bytes) -> bool:
    if data.startswith(_GZIP_MAGIC):
        import zlib

        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:4096], 64)
        except zlib.error:
            return False
        return head.startswith(b"WARC/") or bool(re.match(rb"[a-z]+:[^ \n]* ", head))
    return data.startswith(b"WARC/")


def _find_next_record(path: str, start: int) -> int | None:
    """Byte offset of the next plausible record start at or after `start` (a gzip member that inflates
    to `WARC/...` or an ARC line, or a `WARC/x.y` line), or None at the end of the file."""
    with contextlib.closing(storage.open_read(path, start)) as fh:
        pos, carry = start, b""
        while True:
            block = fh.read(_SCAN_BLOCK)
            if not block:
                return None
            buf = carry + block
            base = pos - len(carry)
            candidates = []
            i = buf.find(_GZIP_MAGIC)
            while i != -1:
                candidates.append(i)
                i = buf.find(_GZIP_MAGIC, i + 1)
            candidates += [m.start(1) for m in _WARC_LINE.finditer(buf)]
            for i in sorted(candidates):
                if base + i < start:
                    continue
                window = buf[i:i + 4096]
                if len(window) < 4096 and i + 4096 > len(buf):
                    window += fh.read(4096)  # rare: a candidate at the block edge; read ahead a little
                    buf += window[len(buf) - i:]
                if _looks_like_record_start(path, base + i, window):
                    return base + i
            pos = base + len(buf)
            carry = buf[-4096:]
