"""Bytes -> str for HTML payloads: charset from the HTTP header, then `<meta charset>`, then BOM, then detection.

A declared charset is checked against the bytes before it is trusted, and a wrong one is skipped for the
next source: one that does not decode the bytes cleanly; UTF-16/32 on bytes without the NUL bytes those
encodings put in every ASCII character (a `charset=utf-16` label on UTF-8 bytes of even length decodes
"cleanly" to CJK mojibake); and a legacy single-byte label on bytes that are valid UTF-8 with multi-byte
sequences (valid UTF-8 by accident is vanishingly rare in real legacy text). This is what makes
mis-labelled pages (e.g. EUC-JP served without a charset) come out readable.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    return m.group(1) if m else None


def _normalise(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    # Browsers treat ISO-8859-1 and ASCII labels as windows-1252 (WHATWG Encoding standard).
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _is_utf8_with_multibyte(payload: bytes) -> bool:
    if payload.isascii():
        return False
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _plausible(payload: bytes, codec: str) -> bool:
    """Can `codec`, declared by the server or the page, be the encoding of these bytes (no BOM)?"""
    if codec.startswith(("utf_16", "utf_32", "utf-16", "utf-32")):
        sample = payload[:4096]
        return sample.count(0) * 8 >= len(sample)  # ASCII markup in UTF-16 is half NUL bytes
    if codec.replace("-", "_") in ("utf_8", "utf_8_sig"):
        return True
    try:
        single_byte = len(codecs.lookup(codec).encode("\u00e9")[0]) == 1 and len(b"\xe9".decode(codec)) == 1
    except (UnicodeError, LookupError):
        single_byte = False
    return not (single_byte and _is_utf8_with_multibyte(payload))


def decode_html(payload: bytes, content_type: str | None) -> tuple[str, str]:
    """Return (text, charset source:name). Never raises; the last resort is UTF-8 with replacement."""
    candidates = [("http", charset_from_content_type(content_type))]
    m = _META_CHARSET.search(payload[:4096])
    candidates.append(("meta", m.group(1).decode("ascii", "ignore") if m else None))
    for bom, name in _BOMS:
        if payload.startswith(bom):
            candidates.insert(0, ("bom", name))
            break
    for source, name in candidates:
        codec = _normalise(name)
        if codec is None or (source != "bom" and not _plausible(payload, codec)):
            continue
        try:
            return payload.decode(codec), f"{source}:{codec}"
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return payload.decode("utf-8"), "default:utf-8"
    except UnicodeDecodeError:
        pass
    # UTF-8 but for a stray invalid byte or two (a cut multi-byte character, an injected byte): replacing
    # those few keeps the page readable, where detection would re-read all of it as a legacy code page
    lenient = payload.decode("utf-8", errors="replace")
    if lenient.count("\ufffd") <= max(2, len(payload) // 2000) and not payload.isascii():
        return lenient, "lenient:utf-8"
    best = from_bytes(payload[:65536]).best()
    if best is not None and best.encoding:
        return payload.decode(best.encoding, errors="replace"), f"detected:{best.encoding}"
    return payload.decode("utf-8", errors="replace"), "fallback:utf-8"


class _BrotliDecompressor:
    """warcio's `br` support calls `brotli.Decompressor().decompress` and sets `unused_data` on it; brotli
    1.2 (the pinned version) has `process` and no settable attributes, so every br body failed to decode.
    This adapter gives warcio the zlib-style interface it expects."""

    unused_data = None

    def __init__(self):
        import brotli

        self._d = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return self._d.process(data)

    def flush(self) -> bytes:
        return b""


def register_brotli() -> None:
    """Make warcio decode `Content-Encoding: br` (idempotent; a no-op without the brotli package)."""
    try:
        import brotli  # noqa: F401
    except ImportError:  # pragma: no cover - brotli is a pinned dependency
        return
    from warcio.bufferedreaders import BufferedReader

    BufferedReader.DECOMPRESSORS["br"] = _BrotliDecompressor


register_brotli()
