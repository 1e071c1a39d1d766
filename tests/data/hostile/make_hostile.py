"""Rebuild the hostile-page fixtures in this folder (see SOURCES.md):

    .venv/bin/python tests/data/hostile/make_hostile.py

`hostile.warc.gz` (gzip per record): one real blog page (scrapinghub article-extraction benchmark, MIT:
blog.comwrap.com, German/English) with one kind of hostile markup injected per record, plus two
pathological pages; `misframed.warc` (uncompressed): Content-Length too short, too long, and right.
Deterministic: the same bytes on every run.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2].parent / "shared" / "data"
PAGE_ID = "ba07d1e64775f4090e39116c382111f5a2cfe9528dd179673f4e9bfcea370c15"
PAGE_URL = "https://blog.comwrap.com/comwrap-auf-der-dmexco-2018"


def real_page() -> bytes:
    return gzip.decompress((SHARED / "extraction" / "scrapinghub" / "html" / f"{PAGE_ID}.html.gz").read_bytes())


def inject(page: bytes, head: bytes = b"", body_end: bytes = b"") -> bytes:
    page = page.replace(b"</head>", head + b"</head>", 1) if head else page
    return page.replace(b"</body>", body_end + b"</body>", 1) if body_end else page


def record(n: int, uri: str, body: bytes, headers: list[tuple[str, str]] | None = None, delta: int = 0) -> bytes:
    """A WARC/1.0 response; `delta` is added to the true Content-Length (a misframed record)."""
    head = [("Content-Type", "text/html; charset=utf-8")] if headers is None else headers
    http = b"HTTP/1.1 200 OK\r\n" + b"".join(f"{k}: {v}\r\n".encode("utf-8", "surrogateescape") for k, v in head)
    block = http + b"\r\n" + body
    warc = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:0000h05t-0000-0000-0000-{n:012d}>\r\n"
            f"WARC-Date: 2024-05-01T12:00:00Z\r\nWARC-Target-URI: {uri}\r\n"
            f"WARC-Payload-Digest: sha1:{base64.b32encode(hashlib.sha1(body).digest()).decode()}\r\n"
            f"Content-Type: application/http;msgtype=response\r\nContent-Length: {len(block) + delta}\r\n\r\n")
    return warc.encode() + block + b"\r\n\r\n"


def hostile_pages(page: bytes) -> list[tuple[str, bytes, list[tuple[str, str]] | None]]:
    deep_json = '<script type="application/ld+json">' + '{"a":[' * 2500 + "1" + "]}" * 2500 + "</script>"
    huge_attr = b'<div data-tracking="' + b"x" * 200_000 + b'">ad</div>'
    return [
        # the link that failed a whole task: a bracketed "host" that is no IPv6 address
        ("bracketed-host", inject(page, head=b'<link rel="license" href="http://[::1">',
                                  body_end=b'<footer><a href="http://[ccpa-preferences]">Do Not Sell My Info</a>'
                                           b'<a rel="license" href="https://[creativecommons.org]/licenses/by/4.0/">'
                                           b"CC</a></footer>"), None),
        ("odd-links", inject(page, body_end=b'<a href="http://example.com:99999/">port</a><a href="https://:0">x</a>'
                                            b'<a rel="license" href="javascript:alert(1)">licence</a>'
                                            b'<a href="data:text/html;base64,PGgxPmhpPC9oMT4=">data</a>'
                                            b'<a href="//[">x</a><area href="http://\xff\xfe/" rel="license">'
                                            b'<a href="http://a b.com/%zz">space</a>'), None),
        ("huge-attribute", inject(page, body_end=huge_attr), None),
        ("bad-entities", inject(page, body_end=b"<p>&#xD800; &#0; &#x110000; &#99999999999; &bogus; \x00null\x00 "
                                               b"\xed\xa0\x80 lone surrogate bytes &#xDFFF;</p>"), None),
        ("broken-json-ld", inject(page, head=b'<script type="application/ld+json">{"license": </script>'
                                             b'<script type="application/ld+json">{"license": 42, "@graph": [null, '
                                             b'{"license": [{"@id": null}, {"url": ["x"]}]}]}</script>'
                                             b'<script type="application/ld+json">[[[[[[[[[[[[[]</script>'), None),
        ("odd-meta", inject(page, head=b'<meta name="robots" content><meta name="robots"><meta name="tdm-reservation" '
                                       b'content="1; DROP TABLE"><meta name="license" content="\x00"><meta '
                                       b'http-equiv="content-type" content="text/html; charset=x-unknown">'
                                       b'<meta property="og:license" content="http://[x]">'), None),
        ("odd-headers", page, [("Content-Type", 'text/html; charset="utf-8"'), ("X-Robots-Tag", "noai, , googlebot:"),
                               ("X-Robots-Tag", ":::"), ("Content-Usage", "train-ai=??; ;="), ("tdm-reservation", "maybe"),
                               ("Link", '<http://[bad>; rel="license"'), ("tdm-a", "")]),
        # a utf-16 label on UTF-8 bytes of even length: must not decode to CJK mojibake
        ("utf16-label", page + (b" " if len(page) % 2 else b""), [("Content-Type", "text/html; charset=utf-16")]),
        # pathological shapes: 200,000 nested <div> (1.2 MB), JSON-LD nested 5,000 deep
        ("deep-divs", b"<html><body>" + b"<div>" * 200_000 + b"deep" + b"</div>" * 200_000 + b"</body></html>", None),
        ("deep-json-ld", inject(page, head=deep_json.encode()), None),
    ]


def main() -> None:
    page = real_page()
    records = [record(i, f"{PAGE_URL}?case={name}", body, headers)
               for i, (name, body, headers) in enumerate(hostile_pages(page))]
    (HERE / "hostile.warc.gz").write_bytes(b"".join(gzip.compress(r, mtime=0) for r in records))

    # misframed.warc, uncompressed: the real page with Content-Length 300 bytes short (the page cut
    # mid-sentence, several lines of leftover bytes), 120 bytes long (the declared length runs into the next
    # record's header), then the same page framed correctly
    (HERE / "misframed.warc").write_bytes(record(100, f"{PAGE_URL}?case=short", page, delta=-300) +
                                          record(101, f"{PAGE_URL}?case=long", page, delta=120) +
                                          record(102, f"{PAGE_URL}?case=right", page))
    cases = [name for name, _, _ in hostile_pages(page)] + ["short", "long", "right"]
    (HERE / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
