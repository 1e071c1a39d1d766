"""Shared word splitting: one tokenizer per language, chosen in `language_ids/quality_thresholds.tsv`.

    from corpus_tools.text import split_words
    words = split_words("Der Hund schläft.", "deu_Latn")   # ['Der', 'Hund', 'schläft', '.']

The tokenizers are datatrove's (spaCy blank models, no downloads): `SpaCyTokenizer:<spacy code>` or
`WhitespaceTokenizer` (datatrove's, i.e. spaCy's language-neutral "xx" rules). Labels the table does not
know (`other`, missing LID) use the "xx" rules too, so a document always gets a word split.

`CliticTokenizer:<spacy code>` stands in for a Stanza tokenizer (a download) where the language writes
clitics with a hyphen or apostrophe: spaCy's rules, then a `-`, `'` or `’` that directly follows letters is
put back on them (Maltese `it-Tnejn` -> `it-`, `Tnejn`; `ta’` stays one word), as Stanza's Maltese model
(trained on the MUDT treebank) keeps them. Without it every article becomes a non-alphabetic `-` "word".
"""

from __future__ import annotations

import os
from functools import lru_cache

from datatrove.utils.word_tokenizers import SpaCyTokenizer, WhitespaceTokenizer, WordTokenizer

from corpus_tools import storage
from corpus_tools.errors import ConfigError

FALLBACK = ("SpaCyTokenizer", "xx")


@lru_cache(maxsize=None)
def tokenizer_for(kind: str, code: str) -> WordTokenizer:
    """One cached tokenizer per (class, spaCy code); the spaCy pipeline loads lazily on first use."""
    if kind == "SpaCyTokenizer":
        return SpaCyTokenizer(code)
    if kind == "WhitespaceTokenizer":
        return WhitespaceTokenizer()
    if kind == "CliticTokenizer":
        return CliticTokenizer(code)
    raise ConfigError(f"unknown word_tokenizer {kind!r} in language_ids/quality_thresholds.tsv: "
                      "use SpaCyTokenizer, CliticTokenizer or WhitespaceTokenizer")


def tokenizer_spec(lang: str | None) -> tuple[str, str]:
    from corpus_tools.quality.thresholds import load_thresholds

    row = load_thresholds().get(lang or "")
    return (row.word_tokenizer, row.tokenizer_lang) if row else FALLBACK


def word_tokenizer(lang: str | None) -> WordTokenizer:
    """The tokenizer the table assigns to `lang` (also accepted by datatrove's filters as `language=`)."""
    return tokenizer_for(*tokenizer_spec(lang))


MAX_STRINGS = 500_000  # spaCy strings per language before its pipeline is rebuilt: caps memory (~100 MB)
_NLP: dict = {}


class _TokenizerOnly:
    """What split_words needs of a spaCy pipeline: its tokenizer and vocab (no max_length: no pipeline runs)."""

    def __init__(self, tokenizer):
        self.tokenizer, self.vocab = tokenizer, tokenizer.vocab


def _load_tokenizer(code: str) -> _TokenizerOnly:
    """spaCy's blank tokenizer for `code`, through a serialised copy on disk.

    Building some blank pipelines is slow (French: ~3 s, for its tokenizer exceptions); reading the
    serialised tokenizer back takes ~0.06 s and tokenises identically (tests/stages/test_quality.py). The copy
    is keyed by the spaCy version and rebuilt when missing or unreadable."""
    import spacy
    from spacy.tokenizer import Tokenizer
    from spacy.vocab import Vocab

    path = storage.cache_dir() / f"spacy-{spacy.__version__}" / f"{code}.tokenizer"
    if path.exists():
        try:
            return _TokenizerOnly(Tokenizer(Vocab()).from_bytes(path.read_bytes()))
        except (ValueError, OSError):
            pass
    tokenizer = spacy.blank(code).tokenizer
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(tokenizer.to_bytes())
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs speed
    return _TokenizerOnly(tokenizer)


def _spacy_nlp(code: str):
    nlp = _NLP.get(code)
    if nlp is None or len(nlp.vocab.strings) > MAX_STRINGS:
        nlp = _NLP[code] = _load_tokenizer(code)
    return nlp


CLITIC_MARKS = frozenset("-'’")


def _attach_clitics(doc) -> list[str]:
    """spaCy tokens, with a hyphen or apostrophe token glued to the letters right before it (no space)."""
    words: list[str] = []
    glue = False  # the previous kept token ends with a letter and no space follows it
    for tok in doc:
        text = tok.text.strip()
        if not text:
            glue = False
            continue
        if glue and text in CLITIC_MARKS:
            words[-1] += text
            glue = False
        else:
            words.append(text)
            glue = text[-1].isalpha()
        if tok.whitespace_:
            glue = False
    return words


class CliticTokenizer(SpaCyTokenizer):
    """datatrove's SpaCyTokenizer with clitic marks attached (see the module docstring); word_tokenize only."""

    def word_tokenize(self, text: str) -> list[str]:
        with self.tokenizer.memory_zone():
            self.tokenizer.max_length = len(text) + 10
            return _attach_clitics(self.tokenizer.tokenizer(text))


def split_words(text: str, lang: str | None) -> list[str]:
    """Words (and punctuation tokens) of `text` with the tokenizer the table assigns to `lang`.

    The same tokens as datatrove's `word_tokenize` (spaCy tokens, stripped, empty ones dropped), but faster:
    it calls spaCy's tokenizer alone (datatrove runs the blank pipeline with a sentencizer), and outside a
    `memory_zone`, so spaCy's per-word cache survives between documents (datatrove's zone empties it for every
    document). Memory stays bounded because the pipeline is rebuilt after MAX_STRINGS distinct strings.
    On the dev crawl: 12.5 ms per document on first sight vs 16.4 ms with a zone, 7.3 ms once words repeat."""
    if not text:
        return []
    kind, code = tokenizer_spec(lang)
    nlp = _spacy_nlp(code if kind != "WhitespaceTokenizer" else "xx")
    if kind == "CliticTokenizer":
        return _attach_clitics(nlp.tokenizer(text))
    return [t for t in (tok.text.strip() for tok in nlp.tokenizer(text)) if t]
