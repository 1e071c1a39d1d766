"""`WarcRecordReader`: WARC/ARC files -> one document per record, provenance set once, nothing lost.

Every record read becomes a document. HTTP responses with an HTML payload carry the decoded HTML in
`doc.text` for the next stage; every other record (request, metadata, warcinfo, resource, conversion,
revisit, non-HTML, HTTP status other than 200, oversized, corrupt) is marked excluded with a reason and
flows to the exclusions ledger. A damaged gzip member ends that file with one ledger row (file, offset,
error): the records before the damage are kept and the next file is processed.

Usage inside a pipeline: `WarcRecordReader(files=[...], max_payload_bytes=5_000_000)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from warcio.archiveiterator import ArchiveIterator

from corpus_tools import storage
from corpus_tools.document import exclude
from corpus_tools.readers.decode import decode_html
from corpus_tools.urls import registered_domain

STAGE = "read"
HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_LANG = re.compile(r"<html[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)", re.I)


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
        with self.track_time():
            stream = storage.open_read(path)
        with contextlib.closing(stream):
            it = ArchiveIterator(stream, arc2warc=True, check_digests=False)
            end_of_last = 0
            try:
                for record in it:
                    doc = self._document(path, it, record)
                    end_of_last = doc.metadata["warc_offset"] + doc.metadata["warc_length"]
                    yield doc
            except Exception as e:  # warcio raises many types on damaged input; all end this file the same way
                self.stat_update("read.corrupt_warc")
                yield self._damage(path, end_of_last, e)

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
        text, reason, evidence = "", None, None
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
        meta["warc_offset"] = it.get_record_offset()
        meta["warc_length"] = it.get_record_length()
        record_id = h.get_header("WARC-Record-ID")
        if not record_id or record.format.startswith("arc"):
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

    def _damage(self, path: str, offset: int, error: Exception) -> Document:
        record_id = f"<urn:corpus:{path}#{offset}>"
        meta = {"url": None, "warc_path": path, "warc_record_id": record_id, "warc_offset": offset,
                "warc_length": None, "warc_date": None, "payload_digest": None, "http_status": None,
                "content_type": None, "domain": None, "warc_type": "damaged"}
        doc = Document(text="", id=stable_id(record_id), metadata=meta)
        exclude(doc, STAGE, "corrupt_warc", rule="read_corrupt_warc_v1",
                evidence={"offset": offset, "error": f"{type(error).__name__}: {str(error)[:200]}"})
        return doc
