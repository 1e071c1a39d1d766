"""The word split behind the quality signals (corpus_tools/quality/text.py `split_words`): remembered per chunk, and
word for word what spaCy's tokenizer gives on the whole text."""

from __future__ import annotations

import pytest

from corpus_tools.quality import text
from corpus_tools.quality.thresholds import load_thresholds
from corpus_tools.quality.text import split_words, tokenizer_spec
from tests.conftest import TEST_DATA

UDHR = "\n".join(line.split("\t", 1)[1] for line in
                 (TEST_DATA / "lid" / "udhr_sample.tsv").read_text(encoding="utf-8").splitlines()[1:])
PAGES = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((TEST_DATA / "quality").glob("*.txt")))
# whitespace spaCy and str.split both cut at, punctuation runs, URLs, clitics and hyphens
EDGES = ("Dr. Müller's (z.B.) ca. 20%.\u00a0Preis:\u20093,5 km/h\u3000https://ex.fr/a?b=1 —x\x1cy\r\n\t"
         "it-Tnejn ta’ l-istudenti f'hekk... «Oui !» 'quoted' e-mail U.S.A. 1.000,50€ :-) #tag @user")


def whole_text(sample: str, lang: str) -> list[str]:
    """spaCy's tokenizer on the whole text, as split_words did before it remembered chunks."""
    kind, code = tokenizer_spec(lang)
    nlp = text._spacy_nlp(code if kind != "WhitespaceTokenizer" else "xx")
    if kind == "CliticTokenizer":
        return text._attach_clitics(nlp.tokenizer(sample))
    return [t for t in (tok.text.strip() for tok in nlp.tokenizer(sample)) if t]


@pytest.mark.parametrize("lang", sorted(load_thresholds()))
def test_words_equal_spacy_on_the_whole_text_in_every_language(lang):
    sample = "\n".join((UDHR, PAGES, EDGES))
    first = split_words(sample, lang)   # every chunk new
    again = split_words(sample, lang)   # every chunk remembered
    assert first == again == whole_text(sample, lang)


@pytest.mark.parametrize("lang, sample, spaced", [
    ("spa_Latn", "Los EE. UU. y la UE.", "EE. UU."),  # a special case with a space: one token for spaCy
    ("spa_Latn", "EE.UU. sin espacio", None),
    ("rus_Cyrl", "и т.д. и т.п. в н.в.", "в н.в."),
    ("srp_Cyrl", "да л' је тако", "да л'"),
])
def test_special_cases_with_a_space_stay_one_word(lang, sample, spaced):
    words = split_words(sample, lang)
    assert words == whole_text(sample, lang)
    assert [w for w in words if " " in w][-1:] == ([spaced] if spaced else [])


def test_chunks_learnt_together_do_not_form_a_special_case():
    # "EE." and "UU." are new chunks of one document, not adjacent in it: learnt in one spaCy call,
    # they must not be merged into Spanish's "EE. UU."
    split_words("fue", "spa_Latn")  # known, so the new chunks are "EE.", "UU.", "después"
    sample = "EE. fue UU. después"
    assert split_words(sample, "spa_Latn") == whole_text(sample, "spa_Latn") == ["EE", ".", "fue", "UU", ".", "después"]


def test_remembered_chunks_are_bounded_and_forgetting_keeps_the_words(monkeypatch):
    expected = whole_text(PAGES, "deu_Latn")
    monkeypatch.setattr(text, "MAX_CACHED_CHUNKS", 50)
    assert split_words(PAGES, "deu_Latn") == expected
    assert split_words(PAGES[:400], "deu_Latn") == whole_text(PAGES[:400], "deu_Latn")
    assert text._CHUNKS_CACHED[0] <= max(50, len(set(PAGES[:400].split())))
    assert sum(len(c) for nlp in text._NLP.values() for c in nlp.chunks.values()) == text._CHUNKS_CACHED[0]


def test_ngram_signals_equal_datatrove_gopher_repetition_functions():
    """The top 2-4-gram and duplicate 5-10-gram fractions are datatrove's GopherRepetitionFilter measures, on
    the clean test pages, the UDHR sample, their repeated paragraphs and random texts of few distinct words
    (tokens `w<digits>`, so that datatrove's join without a separator cannot merge two n-grams)."""
    import random

    from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate, find_top_duplicate, get_n_grams

    from corpus_tools.quality.signals import ngram_signals

    samples = [(PAGES, "deu_Latn"), (UDHR, "eng_Latn"), ("\n\n".join([PAGES[:3000]] * 3), "deu_Latn"), ("", "eng_Latn")]
    cases = [(t, split_words(t, lang)) for t, lang in samples]
    rng = random.Random(7)
    for _ in range(400):
        vocab = [f"w{i}" for i in range(rng.choice([1, 2, 3, 8, 50]))]
        words = [rng.choice(vocab) for _ in range(rng.randrange(0, 80))] * rng.choice([1, 1, 3])
        cases.append((" ".join(words), words))
    for page, words in cases:
        got = ngram_signals(words, len(page))
        for n in (2, 3, 4):
            grams = get_n_grams(words, n)
            assert got[f"top_{n}_gram_frac"] == (find_top_duplicate(grams) / len(page) if grams else 0.0), (n, words[:12])
        for n in range(5, 11):
            assert got[f"dup_{n}_gram_frac"] == (find_all_duplicate(words, n) / len(page) if page else 0.0), (n, words[:12])
