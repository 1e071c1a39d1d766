"""Crawls for benchmarks/e2e.py, built from every real HTML page in ../shared/data/warc (dev and real).

    .venv/bin/python -m benchmarks.e2e_crawl [--out DIR] [--pages 30000]

`real_pages()` yields each HTML response (status 200, an HTML Content-Type) of every WARC under
../shared/data/warc: the 235 dev pages (the 181 scrapinghub benchmark pages, which are the same bytes as
extraction/scrapinghub/html, and 54 UDHR pages) and the 197 pages of the real crawls, 432 in all.
`write_small()` writes them once into one WARC; `write_large()` writes a crawl of N pages made from them with
the variation of a real crawl: every copy gets its own URL; ~10 % are exact copies (same payload), ~15 % near
copies (one paragraph dropped), the rest have their `<p>` paragraphs shuffled and about a third dropped; the
order is shuffled across files, so languages interleave as in a Common Crawl file. Payloads keep their
original HTTP headers (charset included), minus transfer and content encodings (already undone).
Each record carries `WARC-Identified-Payload-Type: text/html` as Common Crawl's do, so datatrove's
WarcReader reads every page (without it, it asks libmagic, which calls ~45 % of these pages something else).
Deterministic (fixed seed): the same files on every machine.
"""

from __future__ import annotations

import argparse
import io
import random
import re
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent
SHARED_WARC = ROOT.parent / "shared" / "data" / "warc"
_DROP_HEADERS = {"content-length", "transfer-encoding", "content-encoding"}
_PARA = re.compile(rb"<p[\s>].*?</p\s*>", re.I | re.S)


def real_pages(root: Path = SHARED_WARC) -> list[dict]:
    """(url, date, headers, payload) of every HTML 200 response under `root`, in sorted file order."""
    pages = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith((".warc", ".warc.gz"))):
        if path.name.endswith(".wet.gz"):
            continue
        with open(path, "rb") as fh:
            try:
                for rec in ArchiveIterator(fh):
                    if rec.rec_type != "response" or rec.http_headers is None:
                        continue
                    if "html" not in (rec.http_headers.get_header("content-type") or "").lower():
                        continue
                    if not rec.http_headers.get_statuscode().startswith("200"):
                        continue
                    payload = rec.content_stream().read()
                    headers = [(k, v) for k, v in rec.http_headers.headers if k.lower() not in _DROP_HEADERS]
                    pages.append({"url": rec.rec_headers.get_header("WARC-Target-URI"),
                                  "date": rec.rec_headers.get_header("WARC-Date"), "headers": headers,
                                  "payload": payload})
            except Exception:  # a damaged tail (ukwa's truncated file): the pages before it count
                continue
    return pages


def _write(writer: WARCWriter, page: dict, url: str, payload: bytes) -> None:
    headers = StatusAndHeaders("200 OK", page["headers"] + [("Content-Length", str(len(payload)))],
                               protocol="HTTP/1.1")
    warc_headers = {"WARC-Identified-Payload-Type": "text/html"}
    if page["date"]:
        warc_headers["WARC-Date"] = page["date"]
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                                  http_headers=headers, warc_headers_dict=warc_headers))


def write_small(out: Path) -> int:
    """Every real page once, in one WARC file; returns the page count."""
    out.mkdir(parents=True, exist_ok=True)
    pages = real_pages()
    with open(out / "real-pages.warc.gz.tmp", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for page in pages:
            _write(writer, page, page["url"], page["payload"])
    (out / "real-pages.warc.gz.tmp").rename(out / "real-pages.warc.gz")
    return len(pages)


def vary(payload: bytes, rng: random.Random, kind: str) -> bytes:
    """The page with its `<p>` paragraphs shuffled and some dropped (`vary`) or one dropped (`near`)."""
    paras = list(_PARA.finditer(payload))
    if kind == "exact" or len(paras) < 2:
        return payload
    bodies = [m.group(0) for m in paras]
    if kind == "near":
        bodies[rng.randrange(len(bodies))] = b""
    else:
        rng.shuffle(bodies)
        bodies = [b if rng.random() > 0.33 else b"" for b in bodies]
    parts, last = [], 0
    for m, body in zip(paras, bodies):
        parts += [payload[last:m.start()], body]
        last = m.end()
    return b"".join(parts + [payload[last:]])


def _new_url(url: str, i: int) -> str:
    base, _, query = (url or f"http://page.invalid/{i}").partition("?")
    return f"{base.rstrip('/')}/v{i}" + (f"?{query}" if query else "")


def write_large(out: Path, n_pages: int = 30_000, n_files: int = 8, seed: int = 22) -> int:
    """`n_pages` varied copies of the real pages over `n_files` WARC files; returns the page count."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pages = real_pages()
    plan = [(pages[i % len(pages)], i) for i in range(n_pages)]
    rng.shuffle(plan)
    per_file = -(-n_pages // n_files)
    for f in range(n_files):
        tmp = out / f"crawl-{f:05d}.warc.gz.tmp"
        with open(tmp, "wb") as fh:
            writer = WARCWriter(fh, gzip=True)
            for page, i in plan[f * per_file:(f + 1) * per_file]:
                r = rng.random()
                kind = "exact" if r < 0.10 else "near" if r < 0.25 else "vary"
                _write(writer, page, _new_url(page["url"], i), vary(page["payload"], rng, kind))
        tmp.rename(out / f"crawl-{f:05d}.warc.gz")
    return n_pages


def ensure(out: Path, large: int = 0) -> Path:
    """The crawl in `out` (built when missing): the small one, or a large one of `large` pages."""
    done = out / ("DONE" if not large else f"DONE-{large}")
    if not done.exists():
        for stale in out.glob("*.tmp"):
            stale.unlink()
        write_large(out, large) if large else write_small(out)
        done.write_text("ok\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--pages", type=int, default=0, help="0: every real page once; N: a varied crawl of N pages")
    args = ap.parse_args()
    ensure(Path(args.out), args.pages)
    print(args.out)


if __name__ == "__main__":
    main()
