"""Shared word splitting: one tokenizer per language, chosen in `language_ids/quality_thresholds.tsv`.

    from corpus_tools.text import split_words
    words = split_words("Der Hund schläft.", "deu_Latn")   # ['Der', 'Hund', 'schläft', '.']

The tokenizers are datatrove's (spaCy blank models, no downloads): `SpaCyTokenizer:<spacy code>` or
`WhitespaceTokenizer` (datatrove's, i.e. spaCy's language-neutral "xx" rules). Labels the table does not
know (`other`, missing LID) use the "xx" rules too, so a document always gets a word split.
"""

from __future__ import annotations

from functools import lru_cache

from datatrove.utils.word_tokenizers import SpaCyTokenizer, WhitespaceTokenizer, WordTokenizer

from corpus_tools.errors import ConfigError

FALLBACK = ("SpaCyTokenizer", "xx")


@lru_cache(maxsize=None)
def tokenizer_for(kind: str, code: str) -> WordTokenizer:
    """One cached tokenizer per (class, spaCy code); the spaCy pipeline loads lazily on first use."""
    if kind == "SpaCyTokenizer":
        return SpaCyTokenizer(code)
    if kind == "WhitespaceTokenizer":
        return WhitespaceTokenizer()
    raise ConfigError(f"unknown word_tokenizer {kind!r} in language_ids/quality_thresholds.tsv: "
                      "use SpaCyTokenizer or WhitespaceTokenizer")


def tokenizer_spec(lang: str | None) -> tuple[str, str]:
    from corpus_tools.quality.thresholds import load_thresholds

    row = load_thresholds().get(lang or "")
    return (row.word_tokenizer, row.tokenizer_lang) if row else FALLBACK


def word_tokenizer(lang: str | None) -> WordTokenizer:
    """The tokenizer the table assigns to `lang` (also accepted by datatrove's filters as `language=`)."""
    return tokenizer_for(*tokenizer_spec(lang))


MAX_STRINGS = 500_000  # spaCy strings per language before its pipeline is rebuilt: caps memory (~100 MB)
_NLP: dict = {}


def _spacy_nlp(code: str):
    nlp = _NLP.get(code)
    if nlp is None or len(nlp.vocab.strings) > MAX_STRINGS:
        import spacy

        nlp = _NLP[code] = spacy.blank(code)
    return nlp


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
    nlp = _spacy_nlp(code if kind == "SpaCyTokenizer" else "xx")
    nlp.max_length = max(nlp.max_length, len(text) + 10)
    return [t for t in (tok.text.strip() for tok in nlp.tokenizer(text)) if t]
