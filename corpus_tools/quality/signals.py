"""Quality signals: every Gopher / FineWeb / C4 measure of a document, computed once from one word split.

    from corpus_tools.quality.signals import compute_signals
    q = compute_signals(text, "deu_Latn")   # dict with the fields of schema.QUALITY

The definitions follow datatrove 0.10.1's filters, measure for measure, so a threshold from a FineWeb or
FineWeb-2 config means the same thing here:
- Gopher repetition (GopherRepetitionFilter, Rae et al. 2021, table A1): duplicate paragraph / line fractions
  (by count and by characters), top 2-4-gram character fraction, duplicate 5-10-gram character fraction.
- Gopher quality (GopherQualityFilter): non-symbol word count, mean word length, `#` and ellipsis per word,
  bullet and ellipsis line ratios, alphabetic word ratio, distinct stop words of the document's language.
- FineWeb (FineWebQualityFilter): line punctuation ratio, short-line ratio (<= 30 chars), character
  duplication ratio, newline/word ratio. The line punctuation ratio is script-aware (quality_signals_v2):
  a line counts as punctuated when, closing quotes and brackets stripped, it ends with datatrove's
  TERMINAL_PUNCTUATION or a mark `language_ids/quality_punctuation.tsv` adds for all scripts (`…`) or for the
  document's script (Armenian `:`, Greek `;`). quality_signals_v1 used datatrove's set on the raw line end.
- C4 (C4QualityFilter as FineWeb used it, no terminal-punctuation line filter): lorem ipsum, curly bracket,
  and the number of sentences in kept lines. Sentences are counted with a regex (runs of . ! ? … ending a
  clause, at least one per kept line) instead of a sentence splitter: cheaper, and only the 5-sentence
  minimum depends on it.

Two deliberate differences, both for speed: words are split once (datatrove splits once per filter), and
n-grams are compared as tuples of words (datatrove joins them without a separator, which only differs when
two different word sequences concatenate to the same string).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import numpy as np
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION

from corpus_tools.core.languages import LANGUAGE_IDS
from corpus_tools.quality.text import split_words, tokenizer_spec

SIGNALS_VERSION = "quality_signals_v2"
PUNCTUATION_TSV = LANGUAGE_IDS / "quality_punctuation.tsv"
SHORT_LINE_CHARS = 30  # FineWebQualityFilter's short_line_length default
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
STOP_CHARS = tuple(TERMINAL_PUNCTUATION)
PUNCTUATION_CHARS = "".join(PUNCTUATION_SET)  # single characters: str.strip removes exactly the set

_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")
_SENTENCE_END = re.compile(r"[.!?…]+(?=[\s\"'”»)]|$)")
C4_MIN_WORDS_PER_LINE = 3
C4_MAX_WORD_LENGTH = 1000
C4_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items that repeat an earlier one, their characters): datatrove's find_duplicates."""
    seen: set[str] = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_items, dup_chars


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def repetition_signals(text: str, words: list[str]) -> dict:
    n_chars = len(text)
    paragraphs = _PARAGRAPHS.split(text.strip())
    para_dups, para_chars = _duplicates(paragraphs)
    lines = _LINES.split(text)
    line_dups, line_chars = _duplicates(lines)
    out = {
        "dup_para_frac": _ratio(para_dups, len(paragraphs)),
        "dup_para_char_frac": _ratio(para_chars, n_chars),
        "dup_line_frac": _ratio(line_dups, len(lines)),
        "dup_line_char_frac": _ratio(line_chars, n_chars),
    }
    out.update(ngram_signals(words, n_chars))
    return out


def ngram_signals(words: list[str], n_chars: int) -> dict:
    """Top 2-4-gram and duplicate 5-10-gram character fractions, with numpy. Each n-gram gets an integer id
    from the (n-1)-gram's id and the next word's (np.unique of the pairs); the top n-gram is the most frequent,
    the first to occur among equals (as Counter.most_common); the duplicate scan (datatrove's: a repeat counts
    its characters and skips its words) visits only the positions of n-grams that occur more than once, since
    no other can be a repeat. No repeated n-gram means no repeated longer one, so the climb stops there."""
    out = {}
    m = len(words)
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), dtype=np.int64, count=m)
    prefix = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=m), out=prefix[1:])
    grams, climb = ids, True
    for n in range(2, DUP_NGRAMS[-1] + 1):
        first = counts = None
        if climb and m >= n:
            _, first, grams, counts = np.unique(grams[:-1] * len(vocab) + ids[n - 1:], return_index=True,
                                                return_inverse=True, return_counts=True)
        if n in TOP_NGRAMS:
            value = 0.0
            if first is not None:
                top = counts.max()
                start = int(first[counts == top].min())
                # characters of " ".join(gram), as datatrove counts them
                value = _ratio((int(prefix[start + n] - prefix[start]) + n - 1) * int(top), n_chars)
            out[f"top_{n}_gram_frac"] = value
        if n in DUP_NGRAMS:
            repeated = 0
            if first is None or len(first) == len(grams):  # every n-gram distinct
                climb = False
            else:
                seen: set[int] = set()
                free = 0  # the first position the last repeat did not cover
                for idx in np.flatnonzero(counts[grams] > 1).tolist():
                    if idx < free:
                        continue
                    gram = grams[idx]
                    if gram in seen:
                        repeated += int(prefix[idx + n] - prefix[idx])
                        free = idx + n
                    else:
                        seen.add(gram)
            out[f"dup_{n}_gram_frac"] = _ratio(repeated, n_chars)
    return out


def gopher_quality_signals(text: str, words: list[str], stop_words: frozenset) -> dict:
    n_words = len(words)
    counts = Counter(words)  # each test once per distinct word
    non_symbol = {w: c for w, c in counts.items() if w.strip(PUNCTUATION_CHARS)}  # a character outside the set
    n_non_symbol = sum(non_symbol.values())
    lines = text.splitlines()
    return {
        "n_words": n_words,
        "n_non_symbol_words": n_non_symbol,
        "avg_word_length": _ratio(sum(len(w) * c for w, c in non_symbol.items()), n_non_symbol),
        "hash_word_ratio": _ratio(text.count("#"), n_words),
        "ellipsis_word_ratio": _ratio(text.count("...") + text.count("…"), n_words),
        "bullet_lines_ratio": _ratio(sum(s.lstrip().startswith(("•", "-")) for s in lines), len(lines)),
        "end_ellipsis_lines_ratio": _ratio(sum(s.rstrip().endswith(("...", "…")) for s in lines), len(lines)),
        "alpha_words_ratio": _ratio(sum(c for w, c in counts.items() if any(ch.isalpha() for ch in w)), n_words),
        # distinct, case-sensitive, as GopherQualityFilter (and so FineWeb-2) counts them
        "stop_words": len(stop_words.intersection(words)),
    }


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[str, str]:
    """key (`all`, `closers` or a script) -> marks, from language_ids/quality_punctuation.tsv."""
    table = {}
    for line in PUNCTUATION_TSV.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("key\t"):
            continue
        key, chars, *_ = line.split("\t")
        table[key] = chars
    return table


@lru_cache(maxsize=None)
def line_end_marks(lang: str | None) -> tuple[tuple[str, ...], str]:
    """(terminal marks, closing marks to strip first) for the label's script."""
    table = _punctuation_table()
    script = (lang or "").rpartition("_")[2]
    extra = table.get("all", "") + (table.get(script, "") if script else "")
    return tuple(sorted(set(STOP_CHARS) | set(extra))), table.get("closers", "")


def ends_with_punctuation(line: str, marks: tuple[str, ...], closers: str) -> bool:
    return line.rstrip().rstrip(closers).endswith(marks)


def fineweb_signals(text: str, words: list[str], lang: str | None = None) -> dict:
    lines = [line for line in text.split("\n") if line.strip()]
    marks, closers = line_end_marks(lang)
    return {
        "line_punct_ratio": _ratio(sum(ends_with_punctuation(line, marks, closers) for line in lines), len(lines)),
        "short_line_ratio": _ratio(sum(len(line) <= SHORT_LINE_CHARS for line in lines), len(lines)),
        "char_dup_ratio": _ratio(_duplicates(lines)[1], len(text) - text.count("\n")),
        "new_line_ratio": _ratio(text.count("\n"), len(words)),
    }


def c4_signals(text: str) -> dict:
    sentences, lorem, curly = 0, False, False
    for line in text.splitlines():
        line = line.strip()
        line_words = line.split()
        if len(line_words) < C4_MIN_WORDS_PER_LINE or any(len(w) > C4_MAX_WORD_LENGTH for w in line_words):
            continue
        lower = line.lower()
        lorem = lorem or "lorem ipsum" in lower
        if "javascript" in lower:
            continue
        curly = curly or "{" in line
        if any(p in lower for p in C4_POLICY):
            continue
        sentences += max(1, len(_SENTENCE_END.findall(line)))
    return {"c4_n_sentences": sentences, "c4_lorem_ipsum": lorem, "c4_curly_bracket": curly}


def compute_signals(text: str, lang: str | None, stop_words: frozenset | None = None) -> dict:
    """All measures of `text`; `stop_words` defaults to the list of `lang` in language_ids/stopwords/."""
    if stop_words is None:
        from corpus_tools.quality.thresholds import load_thresholds

        row = load_thresholds().get(lang or "")
        stop_words = row.stop_words if row else frozenset()
    words = split_words(text, lang)
    kind, code = tokenizer_spec(lang)
    signals = {"signals_version": SIGNALS_VERSION, "tokenizer": f"{kind}:{code}"}
    signals.update(gopher_quality_signals(text, words, stop_words))
    signals.update(repetition_signals(text, words))
    signals.update(fineweb_signals(text, words, lang))
    signals.update(c4_signals(text))
    return signals
