"""Clean pages per target language from the shared dev text, for calibrating and judging the quality rules.

    from corpus_tools.quality.cleanpages import clean_pages
    pages = clean_pages(["flores200_dev", "ud_treebanks"], per_source=40)
    pages[0]  # Page(label='bul_Cyrl', source='flores200_dev', index=0, paragraphs=[...])

A page is 16 consecutive sentences (rows) of one source file in one language, in paragraphs of 1, 2, 3 and 2
sentences (repeating), so each page has eight paragraphs, as a short news article would. Rows are read in file
order; the label is the row's ISO 639-3 code plus the script measured on the page (Serbian rows become
`srp_Cyrl` or `srp_Latn`); the rows of a language the registry has in two scripts are first split by their own
script, so a file that mixes the scripts row by row (NTREX-128 Serbian) gives pages of one script each. Sources (`../shared/data/lid/<name>.tsv`): FLORES-200 dev, UD treebanks, NTREX-128,
Tatoeba, UDHR (paragraphs rather than sentences). `text` is the paragraphs joined by newlines, as trafilatura
extracts an `<article>` of `<p>` elements.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from corpus_tools.core.languages import dominant_script, is_target, iso639_1_to_3, label_for, registry

LID_DATA = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "data" / "lid"
SOURCES = ("flores200_dev", "ud_treebanks", "ntrex128_news", "tatoeba", "udhr")
SENTENCES_PER_PAGE = 16
PARAGRAPH_SIZES = (1, 2, 3, 2)


@dataclass(frozen=True)
class Page:
    label: str
    source: str
    index: int
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def _paragraphs(rows: list[str]) -> tuple[str, ...]:
    out, i, k = [], 0, 0
    while i < len(rows):
        size = PARAGRAPH_SIZES[k % len(PARAGRAPH_SIZES)]
        out.append(" ".join(rows[i:i + size]))
        i, k = i + size, k + 1
    return tuple(out)


def read_rows(source: str, directory: Path = LID_DATA) -> dict[str, list[str]]:
    """ISO 639-3 code -> rows of `source` in file order, target languages only."""
    to3 = iso639_1_to_3()
    codes: dict[str, str] = {}
    by_code: dict[str, list[str]] = defaultdict(list)
    csv.field_size_limit(sys.maxsize)
    with open(directory / f"{source}.tsv", encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 2 or row[0] == "iso639_1":
                continue
            code = codes.setdefault(row[0], to3.get(row[0], row[0]))
            text = " ".join(row[1].split())
            if text:
                by_code[code].append(text)
    return by_code


def clean_pages(sources=SOURCES, per_source: int | None = None, directory: Path = LID_DATA) -> list[Page]:
    """Pages of every target language in `sources`, at most `per_source` per (source, language)."""
    pages = []
    two_scripts = {code for code, n in Counter(x.iso639_3 for x in registry().values()).items() if n > 1}
    for source in sources:
        by_code = read_rows(source, directory)
        for code in [c for c in by_code if c in two_scripts]:
            # a file that mixes a language's two scripts row by row (NTREX-128 and Tatoeba Serbian): a page
            # of each script, not pages of both that the page's dominant script would mislabel
            rows = by_code.pop(code)
            for script in sorted({dominant_script(r) for r in rows}):
                by_code[f"{code}/{script}"] = [r for r in rows if dominant_script(r) == script]
        for key, rows in by_code.items():
            code = key.split("/")[0]
            made: dict[str, int] = defaultdict(int)
            for start in range(0, len(rows) - SENTENCES_PER_PAGE + 1, SENTENCES_PER_PAGE):
                chunk = rows[start:start + SENTENCES_PER_PAGE]
                label = label_for(code, " ".join(chunk))
                if not is_target(label) or (per_source is not None and made[label] >= per_source):
                    continue
                pages.append(Page(label, source, made[label], _paragraphs(chunk)))
                made[label] += 1
    return pages
