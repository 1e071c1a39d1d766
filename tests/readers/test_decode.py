"""Charset order for HTML payloads: BOM, HTTP header, `<meta charset>`, then UTF-8 and detection."""

from __future__ import annotations

from corpus_tools.readers.decode import decode_html

PAGE = "<html><head><meta charset=\"{meta}\"></head><body>Grüße aus Köln, ça va? Ελληνικά</body></html>"


def test_http_header_wins_over_meta_when_it_decodes():
    raw = PAGE.format(meta="utf-8").replace("Ελληνικά", "").encode("cp1252")
    text, source = decode_html(raw, "text/html; charset=windows-1252")
    assert source == "http:cp1252" and "Grüße aus Köln" in text


def test_meta_is_used_when_the_header_has_no_charset_or_a_wrong_one():
    raw = PAGE.format(meta="iso-8859-7").replace("Grüße aus Köln, ça va? ", "").encode("iso-8859-7")
    assert decode_html(raw, "text/html")[1] == "meta:iso8859-7"
    text, source = decode_html(PAGE.format(meta="utf-8").encode("utf-8"), "text/html; charset=ascii-bogus")
    assert source == "meta:utf-8" and "Ελληνικά" in text


def test_bom_beats_a_wrong_declaration():
    raw = "\ufeff".encode("utf-8") + PAGE.format(meta="iso-8859-1").encode("utf-8")
    text, source = decode_html(raw, "text/html; charset=iso-8859-1")
    assert source == "bom:utf-8-sig" and "Ελληνικά" in text


def test_undeclared_payload_falls_back_to_utf8_then_detection():
    assert decode_html("<p>Grüße</p>".encode("utf-8"), None) == ("<p>Grüße</p>", "default:utf-8")
    text, source = decode_html(("<p>" + "Привет, как дела? Это русский текст. " * 20 + "</p>").encode("cp1251"), None)
    assert source.startswith("detected:") and "Привет" in text


def test_a_utf16_label_on_utf8_bytes_is_not_trusted():
    raw = PAGE.format(meta="utf-8").encode("utf-8")
    raw += b" " * (len(raw) % 2)  # even length: utf-16 would decode it "cleanly" into CJK
    text, source = decode_html(raw, "text/html; charset=utf-16")
    assert source == "meta:utf-8" and "Grüße aus Köln" in text
    real = PAGE.format(meta="utf-16").encode("utf-16-le")
    assert decode_html(real, "text/html; charset=utf-16le") == (PAGE.format(meta="utf-16"), "http:utf-16-le")


def test_a_latin1_label_on_utf8_bytes_gives_utf8_not_mojibake():
    raw = "<p>Grüße aus Köln</p>".encode("utf-8")
    assert decode_html(raw, "text/html; charset=iso-8859-1") == ("<p>Grüße aus Köln</p>", "default:utf-8")
    assert decode_html("<p>Grüße</p>".encode("cp1252"), "text/html; charset=iso-8859-1")[0] == "<p>Grüße</p>"


def test_utf8_with_one_stray_byte_stays_utf8():
    raw = ("<p>" + "Grüße aus Köln. " * 50 + "</p>").encode("utf-8") + b"\xff" + "Ελληνικά".encode("utf-8")
    text, source = decode_html(raw, "text/html; charset=utf-8")
    assert source == "lenient:utf-8" and "Grüße" in text and "Ελληνικά" in text and text.count("\ufffd") == 1
