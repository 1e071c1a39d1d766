"""Serbo-Croatian (BCMS) word markers: features that let the combined identifier separate the standards.

    bcms_markers("Gde je dete? Ne znam šta da radim.")   # array([ekavian, ijekavian, hr, sr/bs, bs, cnr])

Every LID backend confuses Serbian in Latin script, Croatian, Bosnian and Montenegrin (language_ids/EVAL.md),
while the standards differ in a few documented places: the reflex of jat (Serbian ekavian `vreme`, the others
ijekavian `vrijeme`) and lexical pairs (`tko`/`ko`, `tisuća`/`hiljada`, Croatian month names). The word lists
are data (language_ids/bcms_markers.tsv, with their source); this module counts them on the text, with
Serbian Cyrillic transliterated to Latin, and the stacker learns their weights.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from corpus_tools.core.languages import LANGUAGE_IDS, read_tsv

MARKER_FILE = LANGUAGE_IDS / "bcms_markers.tsv"
SATURATE = 3          # a class's feature is min(count, SATURATE) / SATURATE: a few hits decide, more add little
CYRILLIC_TO_LATIN = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž",
                           "з": "z", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
                           "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u",
                           "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š"})
WORD = re.compile(r"\w+")


def latin_lower(text: str) -> str:
    """`text` in lower case with Serbian Cyrillic transliterated to Latin: one spelling for both scripts."""
    text = text.lower()
    return text if text.isascii() else text.translate(CYRILLIC_TO_LATIN)


@lru_cache(maxsize=1)
def marker_classes() -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    """(class names in file order, word -> indices of the classes it marks)."""
    names, words = [], {}
    for i, row in enumerate(read_tsv(MARKER_FILE)):
        names.append(row["class"])
        for w in row["words"].split():
            words.setdefault(w.lower(), []).append(i)
    return tuple(names), {w: tuple(ix) for w, ix in words.items()}


def bcms_markers(text: str) -> np.ndarray:
    names, words = marker_classes()
    counts = np.zeros(len(names))
    for w in WORD.findall(latin_lower(text)):
        for i in words.get(w, ()):
            counts[i] += 1
    return np.minimum(counts, SATURATE) / SATURATE
