"""`PiiMasker`: masks e-mail addresses, public IP addresses, phone numbers and IBANs in `doc.text`.

    from corpus_tools.stages.pii import mask_pii
    text, counts = mask_pii("Mail anna@example.de", lang="deu_Latn", url="https://x.de/")

Replacement tokens (documented in README.md): `[EMAIL]`, `[IP]`, `[PHONE]`, `[IBAN]`.
- e-mail: local@domain.tld (Unicode letters allowed).
- IP: IPv4 and IPv6 addresses that are globally routable (`ipaddress.is_global`): private, loopback,
  link-local, shared, reserved and documentation ranges (192.0.2.0/24, 2001:db8::/32, ...) are left alone.
- phone: a number `phonenumbers` finds with leniency VALID (a real number plan, right length) for the region of
  the URL's ccTLD and the language's region (language_ids/pii_regions.tsv), kept only when it also looks like a
  phone: written internationally (+CC or 00CC), or with a phone label shortly before it (Tel., puh., tél., ...:
  language_ids/pii_phone_labels.tsv), or grouped exactly as the region writes its numbers nationally. A
  candidate that reads as a date, time, year, year range, count with thousands separators or issue number
  (`09.07.2019`, `15.00 – 16.45`, `1643`, `394.000`, `35/2023`) is never a phone (`number_shape`); digits
  grouped in threes by spaces (`1 234 567`, `601 234 567`) are a phone only with a label or a +CC.
- IBAN: country code + 2 check digits + BBAN, the country's exact length (SWIFT IBAN registry) and a
  passing mod-97 checksum (ISO 13616); groups of four may be separated by single spaces.

Per document `pii_counts` {email, ip, phone, iban, total} (`PiiMasker`, an annotator). `PiiDensityRule`: a
document with at least `min_entities` entities and more than `max_density` entities per word (directory and
listing pages) is excluded with reason `pii_density`; the ledger gets the counts only. Found values are never logged, counted by value or stored.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from datatrove.data import Document

from corpus_tools.core.document import Annotator, Rule, Verdict
from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import read_tsv
from corpus_tools.quality.thresholds import LANGUAGE_IDS
from corpus_tools.stages.extract import set_text

STAGE = "pii"
DENSITY_RULE = "pii_density_v2"
TOKENS = {"email": "[EMAIL]", "ip": "[IP]", "phone": "[PHONE]", "iban": "[IBAN]"}
REGIONS_TSV = LANGUAGE_IDS / "pii_regions.tsv"
LABELS_TSV = LANGUAGE_IDS / "pii_phone_labels.tsv"
LABEL_WINDOW = 30  # characters before a number searched for a phone label (same line)

# not after "@": `@name@server.social` is a fediverse handle, not a mailbox
EMAIL = re.compile(r"(?<![\w.%+@-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?![\w:])")
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}")
# the head of an IBAN-shaped string right before a phone candidate: its digits are the rest of a (mistyped)
# IBAN, not a phone (`NL56 IGEH 0115 6166 39` has a wrong checksum; `0115 616639` is a Dutch number)
IBAN_HEAD = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){0,7} ?$")

# SWIFT IBAN registry (release 99, 2024): total IBAN length per country
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
CCTLD_REGION = {"uk": "GB", "eu": None}

# Shapes that are never phone numbers, tried on the whole candidate (separators: . / - and dashes, with or
# without spaces). Day and month are range-checked so that `12.34.5678` stays a candidate.
_SEP = r"\s?[./-]\s?"
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[0-9]\d\d|20\d\d)"
SHAPES = [
    ("date", re.compile(rf"{_DAY}{_SEP}{_MONTH}{_SEP}(?:{_YEAR}|\d\d)|{_MONTH}/{_DAY}/(?:{_YEAR}|\d\d)"
                        rf"|{_YEAR}{_SEP}{_MONTH}{_SEP}{_DAY}|{_DAY}{_SEP}{_MONTH}\.?(?:\s{_YEAR})?")),
    ("time", re.compile(r"(?:[01]?\d|2[0-4])[:.h][0-5]\d(?:[:.][0-5]\d)?(?:\s?[-–—]\s?(?:[01]?\d|2[0-4])[:.h][0-5]\d)?")),
    ("year", re.compile(rf"{_YEAR}(?:\s?[-–—/]\s?(?:{_YEAR}|\d\d))?")),
    ("issue", re.compile(rf"\d{{1,4}}\s?/\s?{_YEAR}")),
    # thousands separators: 394.000, 1,234,567, 1'234'567, 1 234 567 (space, no-break or thin space)
    ("count", re.compile(r"[1-9]\d{0,2}(?:([.,'’\u00a0\u202f\u2009 ])\d{3})(?:\1\d{3})*(?:[.,]\d+)?")),
]
# a date or time inside a longer candidate (`05.12.1972 00`, `20/02/2014 - 20`) also rules it out
_INNER = re.compile(rf"(?<!\d){_DAY}[./]{_MONTH}[./]{_YEAR}(?!\d)|(?<!\d){_YEAR}-{_MONTH}-{_DAY}(?!\d)"
                    r"|(?<![\d.])(?:[01]?\d|2[0-4])[:.][0-5]\d\s?[-–—]\s?(?:[01]?\d|2[0-4])[:.][0-5]\d(?![\d.])")


def number_shape(candidate: str) -> str | None:
    """The non-phone reading of a number-like string: date, time, year, issue, count, or `spaced_count` for
    digits grouped in threes by spaces (`1 234 567`, but also the Latvian or Polish phone `63 123 456`,
    `601 234 567`), which only a phone label or an international form makes a phone; None when it has none."""
    raw = candidate.strip()
    for kind, pattern in SHAPES:
        m = pattern.fullmatch(raw)
        if m:
            if kind == "count" and m.group(1) in (" ", "\u00a0", "\u202f", "\u2009"):
                return "spaced_count"
            return kind
    if _INNER.search(raw):
        return "date"
    return None


@lru_cache(maxsize=1)
def language_regions() -> dict[str, str]:
    if not REGIONS_TSV.exists():
        raise ConfigError(f"{REGIONS_TSV} not found: restore it from the repository")
    regions = {}
    for row in read_tsv(REGIONS_TSV):
        first = row["regions"].split(",")[0].strip()
        if first not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(f"{REGIONS_TSV.name}: {row['label']} region {first!r} unknown to phonenumbers")
        regions[row["label"]] = first
    return regions


def phone_regions(lang: str | None, url: str | None) -> list[str]:
    """The ccTLD's region first (it says where the page is published), then the language's."""
    regions = []
    host = urlsplit(url).hostname if url else None
    if host and "." in host:
        tld = host.rsplit(".", 1)[1].lower()
        region = CCTLD_REGION.get(tld, tld.upper() if len(tld) == 2 else None)
        if region in phonenumbers.SUPPORTED_REGIONS:
            regions.append(region)
    region = language_regions().get(lang or "")
    if region and region not in regions:
        regions.append(region)
    return regions or ["ZZ"]  # ZZ: only numbers in international format


def iban_valid(compact: str) -> bool:
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _iban_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group()[:2])
        if length is None or (spans and m.start() < spans[-1][1]):
            continue
        chars, pos = [], m.start()
        while pos < len(text) and len(chars) < length:
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                chars.append(ch.upper())
            elif not (ch == " " and len(chars) % 4 == 0 and chars):
                break
            pos += 1
        compact = "".join(chars)
        if len(compact) == length and not (pos < len(text) and text[pos].isalnum()) and iban_valid(compact):
            spans.append((m.start(), pos))
    return spans


def _ip_public(candidate: str) -> bool:
    try:
        return ipaddress.ip_address(candidate).is_global
    except ValueError:
        return False


@lru_cache(maxsize=1)
def _phone_label_words() -> dict[str, tuple[str, ...]]:
    if not LABELS_TSV.exists():
        raise ConfigError(f"{LABELS_TSV} not found: restore it from the repository")
    return {row["label"]: tuple(w.strip() for w in row["words"].split(",") if w.strip()) for row in read_tsv(LABELS_TSV)}


@lru_cache(maxsize=64)
def phone_label_pattern(lang: str | None) -> re.Pattern:
    """The phone labels of `lang` and of every language (`*`), as whole words."""
    table = _phone_label_words()
    words = sorted(set(table.get("*", ()) + table.get(lang or "", ())), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.I)


def _grouped_nationally(raw: str, number: phonenumbers.PhoneNumber) -> bool:
    """The digits are written in groups the way the region writes the number: exactly its national format, or
    its first group (trunk prefix and area code) set apart from the rest (`030 1234567`, `030/123456`)."""
    groups = re.findall(r"\d+", raw)
    national = re.findall(r"\d+", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return len(groups) >= 2 and (groups == national or (len(national) >= 2 and groups[0] == national[0]))


def _phone_spans(text: str, lang: str | None, url: str | None) -> list[tuple[int, int]]:
    labels = phone_label_pattern(lang)
    spans: list[tuple[int, int]] = []
    for region in phone_regions(lang, url):
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID, max_tries=1000):
            shape = number_shape(m.raw_string)
            if any(m.start < e and s < m.end for s, e in spans) or shape not in (None, "spaced_count"):
                continue
            if IBAN_HEAD.search(text[max(0, m.start - 40):m.start]):
                continue
            head = m.raw_string.lstrip("(")
            left = text[max(0, m.start - LABEL_WINDOW):m.start].rsplit("\n", 1)[-1]
            if (head.startswith("+") or re.match(r"00[1-9]", head) or labels.search(left)
                    or (shape is None and _grouped_nationally(m.raw_string, m.number))):
                spans.append((m.start, m.end))
    return sorted(spans)


def find_pii(text: str, lang: str | None = None, url: str | None = None) -> list[tuple[int, int, str]]:
    """Every entity as (start, end, kind), sorted and non-overlapping. E-mails and IBANs are found first so that
    their digits are not read as phone numbers or addresses; each later kind skips what an earlier one took."""
    found: list[tuple[int, int, str]] = []

    def add(spans, kind):
        for s, e in spans:
            if not any(s < fe and fs < e for fs, fe, _ in found):
                found.append((s, e, kind))

    add([m.span() for m in EMAIL.finditer(text)], "email")
    add(_iban_spans(text), "iban")
    add(sorted(m.span() for pattern in (IPV4, IPV6) for m in pattern.finditer(text) if _ip_public(m.group())), "ip")
    if any(ch.isdigit() for ch in text):
        add(_phone_spans(text, lang, url), "phone")
    return sorted(found)


def mask_pii(text: str, lang: str | None = None, url: str | None = None) -> tuple[str, dict[str, int]]:
    """(masked text, counts per kind)."""
    counts = dict.fromkeys(TOKENS, 0)
    for start, end, kind in reversed(find_pii(text, lang, url)):
        text = text[:start] + TOKENS[kind] + text[end:]
        counts[kind] += 1
    counts["total"] = sum(counts.values())
    return text, counts


class PiiMasker(Annotator):
    """Masks the entities in `text` and `title` and counts them in `pii_counts` (no parameters)."""

    name = "PiiMasker"
    restage = "pii"

    def __init__(self):
        super().__init__()
        language_regions()  # fail at start-up on a bad data file

    def versions(self) -> dict:
        return {"tokens": list(TOKENS.values())}

    def process(self, doc: Document) -> None:
        text, counts = mask_pii(doc.text, doc.metadata.get("lang"), doc.metadata.get("url"))
        doc.metadata["pii_counts"] = counts
        if doc.metadata.get("title"):  # titles are published too; their entities are masked, not counted
            doc.metadata["title"] = mask_pii(doc.metadata["title"], doc.metadata.get("lang"), doc.metadata.get("url"))[0]
        if counts["total"] == 0:
            return
        set_text(doc, text)
        for kind, n in counts.items():
            if n and kind != "total":
                self.stat_update(f"masked.{kind}", value=n)


class PiiDensityRule(Rule):
    """Rule pii_density_v2 (v1 counted dates and numbers as phones and had a guessed 0.05): a directory or
    listing page, decided from the stored `pii_counts` and `n_words` (both of the masked text), so a re-run
    stage (`corpus stage pii`) re-decides without the original text.

    max_density: PII entities per whitespace word above which a document is excluded, default 0.03. Measured
      (benchmarks/pii_precision.py, RESULTS.md): of 405 real pages, the pages with PII in running text have at
      most 0.013 entities per word and at most 3 entities; the one real page above `min_entities`, a listing
      of root-server addresses, has 0.073. 0.03 sits between, with twice the running-text maximum as margin;
      the test directory page (tests/stages/test_pii.py) has ~0.2;
    min_entities: a document needs at least this many entities to be excluded, default 5 (so a short contact
      note with one address is masked, not dropped);
    label_only: count, but exclude nothing, default False."""

    name = "PiiDensityRule"
    rule = DENSITY_RULE
    restage = "pii"

    def __init__(self, max_density: float = 0.03, min_entities: int = 5, label_only: bool = False):
        super().__init__(label_only=label_only)
        if not 0 < max_density:
            raise ConfigError(f"PiiDensityRule max_density={max_density}: give a positive number of entities per word")
        self.max_density = max_density
        self.min_entities = min_entities

    def decide(self, doc: Document) -> Verdict | None:
        counts, n_words = doc.metadata.get("pii_counts") or {}, doc.metadata.get("n_words") or 0
        total = counts.get("total") or 0
        density = total / max(n_words, 1)
        if total >= self.min_entities and density > self.max_density:
            return Verdict("pii_density", {"counts": counts, "n_words": n_words, "density": round(density, 4),
                                           "threshold": self.max_density, "min_entities": self.min_entities})
        return None
