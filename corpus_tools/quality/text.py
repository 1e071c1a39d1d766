"""Shared word splitting: one tokenizer per language, chosen in `language_ids/quality_thresholds.tsv`.

    from corpus_tools.quality.text import split_words
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

import hashlib
import os
import re
import sys
from functools import lru_cache

from datatrove.utils.word_tokenizers import SpaCyTokenizer, WhitespaceTokenizer, WordTokenizer

from corpus_tools.core import storage
from corpus_tools.core.errors import ConfigError

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


MAX_CACHED_CHUNKS = 200_000  # whitespace-delimited chunks remembered, all languages together (~30 MB: ~140 bytes each)
_CHUNKS_CACHED = [0]


class _TokenizerOnly:
    """What split_words needs of a spaCy pipeline: its tokenizer and vocab (no max_length: no pipeline runs),
    the words of each whitespace-delimited chunk seen (`chunks`, with and without clitics glued), and its special cases that contain
    whitespace (`spaced`: a text holding one is split by spaCy whole, see `split_words`)."""

    def __init__(self, tokenizer):
        self.tokenizer, self.vocab = tokenizer, tokenizer.vocab
        self.chunks: dict[bool, dict[str, str | tuple[str, ...]]] = {False: {}, True: {}}  # by clitics or not
        keys = [k for k in tokenizer.rules if k.strip() and any(c.isspace() for c in k)]
        self.spaced = tuple(sorted({k for key in keys for k in (key, "".join(key.split()))}))


_REGEX_FIELDS = {"prefix_search": "search", "suffix_search": "search", "infix_finditer": "finditer",
                 "token_match": "match", "url_match": "match"}


def _compiled_regexes(patterns: dict[str, str], path) -> dict[str, re.Pattern]:
    """`re.compile` of each pattern, through a copy of the compiled program on disk.

    Python's `re` compiles in Python: French's 1.4 MB token_match takes ~2.5 s, and the 40-odd blank
    tokenizers of a multilingual crawl ~6 s together, every time a worker starts. The copy holds what
    `re._compiler.compile` hands to `_sre.compile` (the same program, so the same pattern object); it is keyed
    by the Python version and the patterns, and any mismatch or error falls back to `re.compile`."""
    import marshal
    import _sre
    from re import _compiler, _parser

    key = hashlib.sha256(repr((sys.version, sorted(patterns.items()))).encode("utf-8")).hexdigest()
    try:
        saved_key, programs = marshal.loads(path.read_bytes())
        if saved_key == key and set(programs) == set(patterns):
            return {name: _sre.compile(patterns[name], *programs[name]) for name in patterns}
    except Exception:  # missing, stale or unreadable copy, or another re internals: compile as usual
        pass
    compiled, programs = {}, {}
    for name, pattern in patterns.items():
        try:
            tree = _parser.parse(pattern, 0)
            groupindex = dict(tree.state.groupdict)
            indexgroup = [None] * tree.state.groups
            for k, i in groupindex.items():
                indexgroup[i] = k
            programs[name] = (int(tree.state.flags), [int(c) for c in _compiler._code(tree, 0)], tree.state.groups - 1,
                              groupindex, tuple(indexgroup))
            compiled[name] = _sre.compile(pattern, *programs[name])
        except Exception:
            compiled[name] = re.compile(pattern)
    if len(programs) == len(patterns):
        try:
            _write_atomic(path, marshal.dumps((key, programs)))
        except ValueError:  # a program marshal cannot write: compiling next time only costs speed
            pass
    return compiled


def _write_atomic(path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs speed


def _import_spacy():
    """spaCy, imported without torch. thinc, spaCy's machine-learning layer, imports torch when it is installed
    (the `train` extra): ~2 CPU s and ~200 MB in every worker, for a tokenizer that never uses it. While spaCy
    loads, `import torch` fails, so thinc records that it has no torch; `import torch` works again afterwards
    (the trainer imports it itself)."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        return sys.modules.get("spacy") or __import__("spacy")
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


def _tokenizer_from_bytes(data: bytes, regex_path):
    """`Tokenizer.from_bytes`, in its order (regexes, then the special cases last), with the regexes compiled
    through `_compiled_regexes`."""
    import srsly

    _import_spacy()
    from spacy.tokenizer import Tokenizer
    from spacy.vocab import Vocab

    fields = srsly.msgpack_loads(data)
    patterns = {k: fields[k] for k in _REGEX_FIELDS if isinstance(fields.get(k), str)}
    tokenizer = Tokenizer(Vocab()).from_bytes(data, exclude=[*_REGEX_FIELDS, "exceptions"])
    for name, pattern in _compiled_regexes(patterns, regex_path).items():
        setattr(tokenizer, name, getattr(pattern, _REGEX_FIELDS[name]))
    if isinstance(fields.get("exceptions"), dict):
        tokenizer.rules = fields["exceptions"]
    return tokenizer


def _load_tokenizer(code: str) -> _TokenizerOnly:
    """spaCy's blank tokenizer for `code`, through a serialised copy on disk.

    Building some blank pipelines is slow (French: ~3 s, for its tokenizer exceptions); reading the
    serialised tokenizer back takes ~0.06 s plus its regexes, which are compiled through a second copy
    (`_compiled_regexes`), and tokenises identically (tests/stages/test_quality.py). The copies are keyed by
    the spaCy (and Python) version and rebuilt when missing or unreadable."""
    spacy = _import_spacy()
    path = storage.cache_dir() / f"spacy-{spacy.__version__}" / f"{code}.tokenizer"
    regex_path = path.with_name(f"{code}.regex-py{sys.version_info[0]}{sys.version_info[1]}")
    if path.exists():
        try:
            return _TokenizerOnly(_tokenizer_from_bytes(path.read_bytes(), regex_path))
        except (ValueError, OSError):
            pass
    tokenizer = spacy.blank(code).tokenizer
    _write_atomic(path, tokenizer.to_bytes())
    return _TokenizerOnly(tokenizer)


def _spacy_nlp(code: str):
    nlp = _NLP.get(code)
    if nlp is None or len(nlp.vocab.strings) > MAX_STRINGS:
        if nlp is not None:
            _CHUNKS_CACHED[0] -= sum(map(len, nlp.chunks.values()))
        nlp = _NLP[code] = _load_tokenizer(code)
    return nlp


def _forget_chunks() -> None:
    for nlp in _NLP.values():
        for chunks in nlp.chunks.values():
            chunks.clear()
    _CHUNKS_CACHED[0] = 0


CLITIC_MARKS = frozenset("-'’")


def _attach_clitics(doc) -> list[str]:
    """spaCy tokens, with a hyphen or apostrophe token glued to the letters right before it (no space)."""
    words: list[str] = []
    run: list[str] = []  # tokens with no whitespace between them
    for tok in doc:
        text = tok.text.strip()
        if text:
            run.append(text)
        if not text or tok.whitespace_:
            words += _glue_clitics(run)
            run = []
    return words + _glue_clitics(run)


class CliticTokenizer(SpaCyTokenizer):
    """datatrove's SpaCyTokenizer with clitic marks attached (see the module docstring); word_tokenize only."""

    def word_tokenize(self, text: str) -> list[str]:
        with self.tokenizer.memory_zone():
            self.tokenizer.max_length = len(text) + 10
            return _attach_clitics(self.tokenizer.tokenizer(text))


def _glue_clitics(tokens: list[str]) -> list[str]:
    """Tokens with no whitespace between them, a clitic mark glued to the letters right before it."""
    words: list[str] = []
    glue = False
    for text in tokens:
        if glue and text in CLITIC_MARKS:
            words[-1] += text
            glue = False
        else:
            words.append(text)
            glue = text[-1].isalpha()
    return words


def _learn_chunks(nlp: _TokenizerOnly, chunks: list[str], clitics: bool) -> None:
    """spaCy's words for each new chunk, from one call on the chunks one per line (a newline token between two
    chunks keeps a special case with a space from matching across them)."""
    known = nlp.chunks[clitics]
    ends, pos = [], 0
    for chunk in chunks:
        pos += len(chunk)
        ends.append(pos)
        pos += 1
    groups: list[list[str]] = [[] for _ in chunks]
    i = 0
    for tok in nlp.tokenizer("\n".join(chunks)):
        if tok.text.isspace():
            continue
        while tok.idx >= ends[i]:
            i += 1
        groups[i].append(tok.text)
    for chunk, tokens in zip(chunks, groups):
        words = _glue_clitics(tokens) if clitics else tokens
        known[chunk] = chunk if words == [chunk] else tuple(words)
    _CHUNKS_CACHED[0] += len(chunks)


def split_words(text: str, lang: str | None) -> list[str]:
    """Words (and punctuation tokens) of `text` with the tokenizer the table assigns to `lang`.

    The same tokens as datatrove's `word_tokenize` (spaCy tokens, stripped, empty ones dropped), but faster.
    spaCy splits a text at whitespace first and then each whitespace-free chunk on its own (its own cache is
    keyed by chunk), so the words of a chunk are remembered here, per language, and spaCy's tokenizer only
    sees chunks not met before, all of a document's in one call. A chunk is split alone exactly as in context;
    the one exception, special cases that contain a space (Spanish `EE. UU.`, Russian `и т.д.`), sends a text
    holding one (with or without its spaces) to spaCy whole. tests/quality/test_signals_words.py checks the
    words equal spaCy's on every real page of ../shared/data and every language's fixtures. Memory stays bounded:
    MAX_CACHED_CHUNKS chunks in all, and spaCy's pipeline is rebuilt after MAX_STRINGS distinct strings.
    On the 406-page real crawl: 3.7 ms per document for spaCy's tokenizer vs ~0.4 ms once chunks repeat."""
    if not text:
        return []
    kind, code = tokenizer_spec(lang)
    nlp = _spacy_nlp(code if kind != "WhitespaceTokenizer" else "xx")
    clitics = kind == "CliticTokenizer"
    if nlp.spaced and any(key in text for key in nlp.spaced):
        if clitics:
            return _attach_clitics(nlp.tokenizer(text))
        return [t for t in (tok.text.strip() for tok in nlp.tokenizer(text)) if t]
    chunks = text.split()
    if _CHUNKS_CACHED[0] + len(chunks) > MAX_CACHED_CHUNKS:
        _forget_chunks()
    known = nlp.chunks[clitics]
    new = [c for c in dict.fromkeys(chunks) if c not in known]
    if new:
        _learn_chunks(nlp, new, clitics)
    words: list[str] = []
    append, extend = words.append, words.extend
    for chunk in chunks:
        w = known[chunk]
        if w.__class__ is str:
            append(w)
        else:
            extend(w)
    return words
