"""Signatures: normalisation, shingles, determinism, and that the estimate tracks the exact Jaccard."""

from __future__ import annotations

import random

import numpy as np

from corpus_tools.dedup.exact import exact_hash, normalise_text
from corpus_tools.dedup.minhash import MinhashParams, Signer, band_hashes, estimate_jaccard, shingles, signature_table
from corpus_tools.dedup.evaluate import jaccard


def test_normalisation_makes_case_punctuation_and_spacing_irrelevant():
    a = normalise_text("Hello,   World!\n«Ça va?»")
    assert a == "hello world ça va"
    assert exact_hash(a) == exact_hash(normalise_text("HELLO world ÇA VA"))
    assert exact_hash(a) != exact_hash(normalise_text("hello world ca va"))


def test_shingles_are_word_5grams_and_short_texts_are_one_shingle():
    assert shingles("a b c d e f", 5) == {b"a b c d e", b"b c d e f"}
    assert shingles("a b", 5) == {b"a b"}
    assert shingles("", 5) == set()


def test_signature_estimates_the_exact_jaccard():
    rng = random.Random(3)
    words = [f"w{rng.randrange(5000)}" for _ in range(600)]
    signer = Signer(MinhashParams())
    base = shingles(" ".join(words), 5)
    for cut in (0, 20, 60, 150):
        other_words = words[:]
        for i in range(0, cut):
            other_words[rng.randrange(len(words))] = f"z{i}"
        other = shingles(" ".join(other_words), 5)
        est = estimate_jaccard(signer.signature(base), signer.signature(other))
        assert abs(est - jaccard(base, other)) < 0.1


def test_signatures_and_bands_are_deterministic_across_signers():
    texts = ["the quick brown fox jumps over the lazy dog again and again", "", "short"]
    a = signature_table(["1", "2", "3"], texts, Signer(MinhashParams()))
    b = signature_table(["1", "2", "3"], texts, Signer(MinhashParams()))
    assert a.equals(b)
    assert a.column("sig").null_count == 1 and a.column("b00").null_count == 1  # empty text: exact hash only
    sigs = np.arange(2 * 256, dtype=np.uint32).reshape(2, 256)
    assert band_hashes(sigs, 32, 8).shape == (2, 32)
    assert (band_hashes(sigs, 32, 8) == band_hashes(sigs.copy(), 32, 8)).all()


def test_signatures_equal_datasketchs_affine32_minhash_on_real_pages():
    """Signer is datasketch 2's affine32 MinHash written out with numpy: bit for bit the same signature, on the
    sample crawl's pages (each WARC record's text), a page longer than a signing block, and another seed."""
    from datasketch import MinHash

    from corpus_tools.dedup.minhash import SIGN_BLOCK, _crc32
    from corpus_tools.readers.warc import WarcRecordReader
    from tests.conftest import SAMPLE_CRAWL

    reader = WarcRecordReader(sorted(str(p) for p in SAMPLE_CRAWL.glob("*.warc.gz")))
    texts = [doc.text for doc in reader.run(None, 0, 1)][:60]
    rng = random.Random(5)
    texts.append(" ".join(f"w{rng.randrange(10**6)}" for _ in range(3 * SIGN_BLOCK)))
    assert len(texts) > 30
    for params in (MinhashParams(), MinhashParams(seed=7, bands=4, rows=5)):
        signer = Signer(params)
        template = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=_crc32)
        for text in texts:
            grams = shingles(normalise_text(text), params.ngram)
            if not grams:
                assert signer.signature(grams) is None
                continue
            reference = MinHash(num_perm=params.num_perm, hashfunc=_crc32, scheme="affine32",
                                permutations=template.permutations)
            reference.update_batch(grams)
            assert (signer.signature(grams) == reference.hashvalues).all()
