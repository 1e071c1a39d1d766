"""The language registry (`language_ids/registry.tsv`) and label helpers.

Labels are ISO 639-3 + ISO 15924 script (`deu_Latn`, `srp_Cyrl`). The script of a document is measured
from its letters, never assumed from the language, so Serbian in Cyrillic and in Latin land apart.
"""

from __future__ import annotations

import csv
import importlib.resources
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from corpus_tools.core.errors import ConfigError


def data_dir(name: str) -> Path:
    """The folder of bundled data `name` (`language_ids`, `manifests`, `pipelines`), resolved in one place.

    In a wheel the folders ship inside the package (`corpus_tools/<name>/`, mapped there at build time by
    `[tool.setuptools.package-dir]` in pyproject.toml); in a checkout or an editable install they stay at the
    repository root beside the package, where auditors review them.
    """
    inside = importlib.resources.files("corpus_tools") / name
    if inside.is_dir():
        return Path(str(inside))
    beside = Path(str(importlib.resources.files("corpus_tools"))).parent / name
    if beside.is_dir():
        return beside
    raise ConfigError(f"corpus-tools data folder {name}/ not found (looked in {inside} and {beside}): "
                      "reinstall corpus-tools (pip install corpus-tools) or restore it in the checkout")


LANGUAGE_IDS = data_dir("language_ids")
OTHER = "other"


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a TSV data file, skipping `#` comment lines."""
    if not path.exists():
        raise ConfigError(f"missing data file {path}: reinstall corpus-tools or restore language_ids/")
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))


@dataclass(frozen=True)
class Language:
    label: str
    iso639_1: str | None
    iso639_3: str
    script: str
    name: str
    status: str
    lid176: str | None
    fineweb2: str | None
    py3langid: str | None = None
    lingua: str | None = None


@lru_cache(maxsize=1)
def registry() -> dict[str, Language]:
    out = {}
    for row in read_tsv(LANGUAGE_IDS / "registry.tsv"):
        clean = {k: (None if v == "-" else v) for k, v in row.items()}
        out[row["label"]] = Language(**clean)
    return out


def language_name(label: str) -> str:
    lang = registry().get(label)
    return lang.name if lang else label


@lru_cache(maxsize=1)
def lid176_iso639_3() -> dict[str, str]:
    return {r["label"]: r["iso639_3"] for r in read_tsv(LANGUAGE_IDS / "lid176_labels.tsv")}


_SCRIPT_PREFIXES = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "GEORGIAN": "Geor", "ARMENIAN": "Armn",
    "ARABIC": "Arab", "HEBREW": "Hebr", "HIRAGANA": "Jpan", "KATAKANA": "Jpan", "CJK": "Hani",
    "HANGUL": "Hang", "THAI": "Thai", "DEVANAGARI": "Deva", "BENGALI": "Beng", "TAMIL": "Taml",
}


SCRIPTS = ("Zyyy", *dict.fromkeys(_SCRIPT_PREFIXES.values()))   # index 0: no script (not a letter)


def _char_script(ch: str) -> str | None:
    """The script of a letter (by its Unicode name), None for anything else."""
    name = unicodedata.name(ch, "") if ch.isalpha() else ""
    return _SCRIPT_PREFIXES.get(name.split(" ")[0])


@lru_cache(maxsize=1)
def _bmp_scripts() -> np.ndarray:
    """Index into SCRIPTS for every Basic Multilingual Plane code point (64 KiB, built once, ~70 ms)."""
    lut = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        if not 0xD800 <= cp < 0xE000 and (s := _char_script(chr(cp))):
            lut[cp] = SCRIPTS.index(s)
    return lut


def dominant_script(text: str, sample: int = 2000) -> str:
    """ISO 15924 code of the most frequent script among the letters of `text` (first `sample` chars).

    Any kana makes Han text Japanese (`Jpan`), as Japanese mixes kanji and kana. Counted in numpy over the
    code points (a lookup table for the BMP; the rare astral letters one by one).
    """
    cps = np.frombuffer(text[:sample].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bmp = cps < 0x10000
    counts = np.bincount(_bmp_scripts()[cps[bmp]], minlength=len(SCRIPTS))
    if not bmp.all():
        for cp in cps[~bmp]:
            if s := _char_script(chr(cp)):
                counts[SCRIPTS.index(s)] += 1
    counts[0] = 0
    if not counts.any():
        return "Zyyy"
    top = SCRIPTS[int(counts.argmax())]
    if top == "Hani" and counts[SCRIPTS.index("Jpan")]:
        return "Jpan"
    return top


def label_for(iso639_3: str, text: str) -> str:
    return f"{iso639_3}_{dominant_script(text)}"


def is_target(label: str) -> bool:
    return label in registry()


@lru_cache(maxsize=1)
def iso639_1_to_3() -> dict[str, str]:
    """ISO 639-1 (and the few 639-3 codes py3langid / lid.176 use) -> ISO 639-3, registry first."""
    out = dict(lid176_iso639_3())
    for lang in registry().values():
        if lang.iso639_1:
            out[lang.iso639_1] = lang.iso639_3
        if lang.py3langid:
            out[lang.py3langid] = lang.iso639_3
    return out


def target_codes() -> list[str]:
    """ISO 639-3 codes of the target languages, in registry order (Serbian once for both scripts)."""
    return list(dict.fromkeys(lang.iso639_3 for lang in registry().values()))


def eval_code(label: str) -> str:
    """The ISO 639-1 code (639-3 where none) that dev-set files use for a label; `other` for non-targets."""
    lang = registry().get(label)
    if lang is None:
        by_code = {x.iso639_3: x for x in registry().values()}
        lang = by_code.get(label.split("_")[0])
        if lang is None:
            return OTHER
    return lang.iso639_1 or lang.iso639_3


@lru_cache(maxsize=1)
def confusable_groups() -> dict[str, list[str]]:
    """Group name -> ISO 639-3 codes (language_ids/confusable_groups.tsv)."""
    groups = {r["group"]: r["iso639_3"].split(",") for r in read_tsv(LANGUAGE_IDS / "confusable_groups.tsv")}
    unknown = {c for codes in groups.values() for c in codes} - set(target_codes())
    if unknown:
        raise ConfigError(f"confusable_groups.tsv names codes outside the registry: {sorted(unknown)}")
    return groups


@lru_cache(maxsize=1)
def macrolanguages() -> dict[str, list[str]]:
    """Macrolanguage code a LID model may answer (`hbs`) -> the target ISO 639-3 codes it covers
    (the `macrolanguage` column of language_ids/confusable_groups.tsv)."""
    rows = read_tsv(LANGUAGE_IDS / "confusable_groups.tsv")
    return {r["macrolanguage"]: r["iso639_3"].split(",") for r in rows if r.get("macrolanguage", "-") != "-"}
