"""Rebuild the deliberately broken / unusual WARC fixtures in this folder from real shared files.

    .venv/bin/python tests/data/warc-broken/make_fixtures.py

Every fixture is derived from `../shared/data/warc/real/warcio/example.warc.gz` (Apache-2.0, the warcio
project): 6 records, gzip per record, members at offsets 0, 353, 784 (response), 2012, 2621, 3207.
See SOURCES.md for what each file exercises.
"""

from __future__ import annotations

import brotli
import gzip
import hashlib
import base64
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[2].parent / "shared" / "data" / "warc" / "real" / "warcio" / "example.warc.gz"
MEMBERS = [(0, 353), (353, 431), (784, 1228), (2012, 609), (2621, 586), (3207, 609)]


def _members(data: bytes) -> list[bytes]:
    return [data[o:o + n] for o, n in MEMBERS]


def _gz(raw: bytes) -> bytes:
    return gzip.compress(raw, mtime=0)


def _sha1(b: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(b).digest()).decode()


def _response(uri: str, rid: str, http_head: bytes, body: bytes, version: bytes = b"WARC/1.0") -> bytes:
    block = http_head + body
    head = (version + b"\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:" + rid.encode() + b">\r\n"
            b"WARC-Date: 2017-03-06T04:02:06Z\r\nWARC-Target-URI: " + uri.encode() + b"\r\n"
            b"WARC-Payload-Digest: " + _sha1(body).encode() + b"\r\nWARC-Block-Digest: " + _sha1(block).encode() +
            b"\r\nContent-Type: application/http;msgtype=response\r\nContent-Length: " + str(len(block)).encode() +
            b"\r\n\r\n")
    return head + block + b"\r\n\r\n"


def main() -> None:
    data = SRC.read_bytes()
    members = _members(data)
    raws = [gzip.decompress(m) for m in members]
    html = gzip.decompress(raws[2].split(b"\r\n\r\n", 2)[2].rstrip(b"\r\n"))  # the real example.com page

    # 1. the file ends in the middle of the 4th gzip member (a crawl cut off while writing)
    (HERE / "truncated-member.warc.gz").write_bytes(data[:2012 + 300])
    # 2. 40 bytes of the 3rd member's deflate stream overwritten (disk/transfer corruption)
    bad = bytearray(data)
    bad[784 + 200:784 + 240] = b"\x00" * 40
    (HERE / "corrupt-member.warc.gz").write_bytes(bytes(bad))
    # 3. the same records as WARC/1.1 (no WARC/1.1 file in the shared data)
    (HERE / "example-1.1.warc.gz").write_bytes(b"".join(_gz(r.replace(b"WARC/1.0\r\n", b"WARC/1.1\r\n", 1)) for r in raws))
    # 4. ARC v1 of the response record, gzip per record and uncompressed
    http = raws[2].split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n")
    http = http.replace(b"Content-Encoding: gzip\r\n", b"").split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + html
    desc_body = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    filedesc = b"filedesc://example.arc 0.0.0.0 20170306040206 text/plain %d\n" % len(desc_body) + desc_body + b"\n"
    rec = b"http://example.com/ 93.184.216.34 20170306040206 text/html %d\n" % len(http) + http + b"\n"
    (HERE / "example.arc").write_bytes(filedesc + rec)
    (HERE / "example.arc.gz").write_bytes(_gz(filedesc) + _gz(rec))
    # 5. one response per content / transfer encoding, digests computed over the transmitted body
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n"
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(html[i:i + 500]), html[i:i + 500]) for i in range(0, len(html), 500)) + b"0\r\n\r\n"
    deflated = zlib.compress(html)
    records = [
        _response("http://example.com/gzip", "e0000000-0000-0000-0000-000000000001",
                  ok + b"Content-Encoding: gzip\r\n\r\n", _gz(html)),
        _response("http://example.com/deflate", "e0000000-0000-0000-0000-000000000002",
                  ok + b"Content-Encoding: deflate\r\n\r\n", deflated),
        _response("http://example.com/br", "e0000000-0000-0000-0000-000000000003",
                  ok + b"Content-Encoding: br\r\n\r\n", brotli.compress(html)),
        _response("http://example.com/chunked", "e0000000-0000-0000-0000-000000000004",
                  ok + b"Transfer-Encoding: chunked\r\n\r\n", chunked),
        _response("http://example.com/chunked-gzip", "e0000000-0000-0000-0000-000000000005",
                  ok + b"Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n",
                  b"%x\r\n%s\r\n0\r\n\r\n" % (len(_gz(html)), _gz(html))),
        # claims chunked but is not: warcio falls back to the bytes as they are
        _response("http://example.com/mis-chunked", "e0000000-0000-0000-0000-000000000006",
                  ok + b"Transfer-Encoding: chunked\r\n\r\n", html),
    ]
    (HERE / "encodings.warc.gz").write_bytes(b"".join(_gz(r) for r in records))


if __name__ == "__main__":
    main()
