"""FastLanguageIdentifier gives py3langid's own numbers through py3langid's public API only: the same
features at the same bytes, and `rank()` equal to py3langid's (every label's score, exactly), with
normalised probabilities and raw scores, on real dev rows and on edge cases; `top_batch` gives
`[top(t, k) ...]` exactly, in batches of any size and content, and so does the py3langid backend's
`predict_batch`."""

from array import array
from pathlib import Path

import numpy as np
import pytest
from py3langid import langid

from corpus_tools.lid.evaluate import read_dev
from corpus_tools.lid.fastlangid import FastLanguageIdentifier, _check_automaton, encode

SAMPLE = Path(__file__).parents[1] / "data" / "lid" / "udhr_sample.tsv"
SHARED = Path(__file__).parents[3] / "shared" / "data" / "lid"
SHARED_ROWS = 1500  # per shared file, evenly spaced over it (every language, ~1 s each)


@pytest.fixture(scope="module")
def pair():
    original = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    return original, FastLanguageIdentifier.default()


@pytest.fixture(scope="module")
def raw_pair():
    """The same model with raw scores (no softmax; aliases folded by max; RAW_FLOOR when nothing is found)."""
    original = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    fast = FastLanguageIdentifier(original.nb_ptc, original.nb_pc, original.nb_classes, original.tk_nextmove,
                                  original.tk_output, tk_row=original.tk_row)
    return original, fast


def walked(identifier, text: bytes) -> list[int]:
    """py3langid's DFA walk, every emitted feature in order (visit_counts before its Counter)."""
    nm, rowbase, out = identifier.tk_nextmove, [r << 8 for r in identifier.tk_row], identifier.tk_output
    state, found = 0, []
    for byte in text:
        state = nm[rowbase[state] + byte]
        if out[state] >= 0:
            found.append(out[state])
    return found


def assert_same(original, fast, text):
    encoded = encode(text)
    assert fast.features(encoded).tolist() == walked(original, encoded)
    ranked = original.rank(text)
    assert fast.rank(text) == ranked                  # every label, every score bit for bit, the same order
    assert fast.top(text, 3) == ranked[:3] and fast.scores(text).dtype == np.float32
    assert fast.labels == original.labels


def spaced_rows(path: Path, n: int) -> list[str]:
    rows = read_dev(path)
    return [t for _, t in rows[:: max(1, len(rows) // n)]]


def test_the_shipped_model_is_a_depth_6_aho_corasick_automaton(pair):
    _, fast = pair
    assert fast._depth == 6 and len(fast._pad) == 5
    # the pad byte leads every state back to the root, so it is in no feature
    assert (fast._nm[fast._rb + fast._pad[0]] == 0).all()


def test_same_scores_on_the_dev_sample(pair):
    original, fast = pair
    texts = [t for _, t in read_dev(SAMPLE)]
    assert len(texts) > 200
    for text in texts:
        assert_same(original, fast, text)


@pytest.mark.parametrize("name", ["ud_treebanks.tsv", "udhr.tsv"])
def test_same_scores_on_shared_dev_rows(pair, name):
    if not (SHARED / name).exists():
        pytest.skip(f"{SHARED / name} not here")
    original, fast = pair
    texts = spaced_rows(SHARED / name, SHARED_ROWS)
    assert len(texts) >= SHARED_ROWS
    for text in texts:
        assert_same(original, fast, text)


EDGE_CASES = {
    "empty": "",
    "empty bytes": b"",
    "one byte": "a",
    "one raw byte": b"\xe4",
    "spaces": "     ",
    "not utf-8": b"Gr\xfc\xdfe aus K\xf6ln, sch\xf6ne Stra\xdfe \xff\xfe\x00\x01",
    "truncated utf-8": "Добрый день".encode()[:-1],
    "10 kB": "Sva ljudska bića rađaju se slobodna i jednaka u dostojanstvu i pravima. " * 140,
    "emoji": "Dobar dan 😀🎉 kako ste? 👍🏽 Мир 🌍",
    "only emoji": "😀🎉👍🏽🌍",
    "upper case": "ALLE MENSCHEN SIND FREI UND GLEICH AN WÜRDE UND RECHTEN GEBOREN.",
}


@pytest.mark.parametrize("text", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_same_scores_on_edge_cases(pair, raw_pair, text):
    for original, fast in (pair, raw_pair):
        assert_same(original, fast, text)


def test_same_raw_scores_on_the_dev_sample(raw_pair):
    original, fast = raw_pair
    for text in [t for _, t in read_dev(SAMPLE)][::4]:
        assert_same(original, fast, text)


def test_what_is_scored_is_what_py3langid_reads():
    """py3langid decodes bytes (trimming a partial last character), lower-cases an all-upper text, NFC:
    texts that differ only so score the same; undecodable bytes are scored as they are."""
    fast = FastLanguageIdentifier.default()
    assert encode("ALLE MENSCHEN") == encode("alle menschen") == "alle menschen".encode()
    assert encode("Stra\u00dfe".encode()) == encode("Straße") and encode("e\u0301") == "\u00e9".encode()
    assert encode("Добрый день".encode()[:-1]) == "Добрый ден".encode()
    assert encode(b"\xff\xfe abc") == b"\xff\xfe abc"
    assert fast.rank("ALLE MENSCHEN SIND FREI") == fast.rank("alle menschen sind frei")


def test_restricted_languages_and_raw_scores(pair):
    original, fast = pair
    texts = [t for _, t in read_dev(SAMPLE)][::10] + list(EDGE_CASES.values())
    try:
        for identifier in pair:
            identifier.set_languages(["hr", "sr", "bs", "sl", "de", "sk", "cs"])
        for text in texts:
            assert_same(original, fast, text)
    finally:
        for identifier in pair:
            identifier.set_languages(None)
    assert len(fast.top("Dobar dan", 200)) == len(fast.labels)


def toy_model(nextmove, rows, output):
    """A 2-class identifier over a hand-made DFA (features = indices into a 2-row table)."""
    n_feats = max(output) + 1
    ptc = np.arange(2 * n_feats, dtype=np.float16).reshape(n_feats, 2) / 8
    return dict(nb_ptc=ptc, nb_pc=np.zeros(2, np.float32), nb_classes=["aa", "bb"],
                tk_nextmove=array("I", nextmove), tk_output=output, norm_probs=True, tk_row=array("I", rows))


def test_a_dfa_that_is_not_aho_corasick_is_walked_in_python():
    # parity of the number of 'a' bytes: the state depends on the whole text, not on its last bytes
    parity = [0] * 512
    parity[ord("a")], parity[256 + ord("a")] = 1, 0
    for b in range(256):
        if b != ord("a"):
            parity[256 + b] = 1
    assert _check_automaton(np.asarray(array("I", parity)), np.array([0, 256])) is None
    model = toy_model(parity, [0, 1], [-1, 0])
    fast = FastLanguageIdentifier(**model)
    assert fast._depth == 0
    original = langid.LanguageIdentifier(**model)
    for text in ("", "a", "aa", "ab" * 50, "xaxax"):
        assert fast.rank(text) == original.rank(text)
        assert fast.features(encode(text)).tolist() == walked(original, encode(text))


def test_a_small_aho_corasick_trie_is_vectorised():
    # trie of "ab" and "b": 0 -a-> 1 -b-> 2, 0 -b-> 3; fail(1)=0, fail(2)=3, fail(3)=0
    a, b = ord("a"), ord("b")
    table = [0] * (4 * 256)
    for s in range(4):
        table[256 * s + a] = 1
        table[256 * s + b] = 3
    table[256 + b] = 2
    model = toy_model(table, [0, 1, 2, 3], [-1, -1, 0, 1])
    fast = FastLanguageIdentifier(**model)
    assert fast._depth == 2
    original = langid.LanguageIdentifier(**model)
    for text in ("", "ab", "bab", "aab", "abba" * 30, "xyz"):
        assert fast.features(encode(text)).tolist() == walked(original, encode(text))
        assert fast.rank(text) == original.rank(text)


# --- top_batch: [top(t, k) for t in texts], bit for bit, whatever the batch holds -------------------

BATCH_SIZES = (1, 7, 256)
MIXED = [
    "",
    "a",
    "é",
    "     ",
    "😀🎉👍🏽🌍",
    "𐌰𐌱𐌲 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁",  # 4-byte UTF-8 only
    "ALLE MENSCHEN SIND FREI UND GLEICH AN WÜRDE UND RECHTEN GEBOREN.",
    "ВСЕ ЛЮДИ РОЖДАЮТСЯ СВОБОДНЫМИ",
    EDGE_CASES["10 kB"],
    "Ljudi se rađaju slobodni. " * 400,  # another 10 kB
    b"\xe4",
    b"",
    EDGE_CASES["not utf-8"],
    EDGE_CASES["truncated utf-8"],
    "Dobar dan 😀🎉 kako ste? 👍🏽 Мир 🌍",
    "\ud800 lone surrogate",
]


def batched(fast, texts, size, k=3):
    out = []
    for lo in range(0, len(texts), size):
        out += fast.top_batch(texts[lo : lo + size], k)
    return out


def interleave(texts, extra, every=5):
    """texts with the extra ones spread through them (so each batch size mixes them differently)."""
    out, extra = [], list(extra)
    for i, text in enumerate(texts):
        out.append(text)
        if i % every == 0 and extra:
            out.append(extra.pop())
    return out + extra


def assert_batches_equal(fast, texts, k=3, sizes=BATCH_SIZES):
    expected = [fast.top(t, k) for t in texts]
    for size in sizes:
        got = batched(fast, texts, size, k)
        assert len(got) == len(expected)
        for text, g, e in zip(texts, got, expected):
            assert g == e, (size, text[:80])


def test_top_batch_on_the_dev_sample_mixed_with_edge_cases(pair):
    _, fast = pair
    texts = interleave([t for _, t in read_dev(SAMPLE)], MIXED + list(EDGE_CASES.values()))
    assert_batches_equal(fast, texts)
    # every label's score, not only the best three
    assert_batches_equal(fast, texts[:120], k=len(fast.labels) + 5, sizes=(7, 120))


def test_top_batch_on_shared_dev_rows(pair):
    present = [SHARED / n for n in ("ud_treebanks.tsv", "udhr.tsv") if (SHARED / n).exists()]
    if not present:
        pytest.skip(f"no dev TSVs in {SHARED}")
    _, fast = pair
    texts = [t for path in present for t in spaced_rows(path, 1000)]
    assert len(texts) >= 1000 * len(present)
    assert_batches_equal(fast, interleave(texts, MIXED, every=97))


def test_top_batch_edge_batches(pair):
    original, fast = pair
    assert fast.top_batch([]) == []
    assert fast.top_batch([""]) == [fast.top("")] == [original.rank("")[:3]]
    assert fast.top_batch(["", "", "   "], 2) == [fast.top("", 2), fast.top("", 2), fast.top("   ", 2)]
    assert fast.top_batch(["Dobar dan"], 0) == [[]]
    assert_batches_equal(fast, MIXED, sizes=(1, 2, 3, len(MIXED)))


def test_top_batch_in_small_chunks(pair, monkeypatch):
    # chunks of at most 2 texts / 500 bytes: the 10 kB texts go alone
    from corpus_tools.lid import fastlangid

    _, fast = pair
    monkeypatch.setattr(fastlangid, "BATCH_TEXTS", 2)
    monkeypatch.setattr(fastlangid, "BATCH_BYTES", 500)
    texts = interleave([t for _, t in read_dev(SAMPLE)][::5], MIXED, every=2)
    assert_batches_equal(fast, texts, sizes=(len(texts),))


def test_top_batch_with_restricted_languages_and_raw_scores(pair):
    _, fast = pair
    texts = interleave([t for _, t in read_dev(SAMPLE)][::4], MIXED)
    try:
        fast.set_languages(["hr", "sr", "bs", "sl", "de", "sk", "cs"])
        assert_batches_equal(fast, texts, k=10, sizes=(7, 256))
    finally:
        fast.set_languages(None)
    try:
        fast.norm_probs = False  # raw scores: no softmax, aliases folded by max, RAW_FLOOR fill
        assert_batches_equal(fast, texts, sizes=(7, 256))
    finally:
        fast.norm_probs = True


def test_top_batch_in_python_fallback_mode():
    a = ord("a")
    parity = [0] * 512
    parity[a], parity[256 + a] = 1, 0
    for byte in range(256):
        if byte != a:
            parity[256 + byte] = 1
    fast = FastLanguageIdentifier(**toy_model(parity, [0, 1], [-1, 0]))
    assert fast._depth == 0
    texts = ["", "a", "aa", "ab" * 50, "xaxax", "b"]
    assert fast.top_batch(texts, 2) == [fast.top(t, 2) for t in texts]


def test_py3langid_backend_predict_batch_equals_predict(pair):
    from corpus_tools.lid.backends import Py3langidBackend

    backend = Py3langidBackend()
    texts = [t for _, t in read_dev(SAMPLE)][::3]
    texts += ["", "   ", "Dobar  dan,\tkako ste?\n", "Добар дан"]
    texts += [EDGE_CASES["10 kB"], "x" * 5000]
    expected = [backend.predict(t, 3) for t in texts]
    assert backend.predict_batch(texts) == expected
    assert backend.predict_batch(texts[:5], k=5) == [backend.predict(t, 5) for t in texts[:5]]
    assert backend.predict_batch([]) == []
    scripts = ["Latn" if i % 2 else None for i in range(len(texts))]
    assert backend.predict_batch(texts, scripts=scripts) == [
        backend.predict(t, 3, script=s) for t, s in zip(texts, scripts)
    ]
    with pytest.raises(ValueError):
        backend.predict_batch(texts, scripts=["Latn"])


def test_default_identifier_is_built_once_then_read_back_from_disk(tmp_path, monkeypatch, pair):
    """The second process (here: call) memory-maps the arrays the first one built, and scores bit for bit the
    same; a damaged copy is rebuilt, never trusted."""
    def mapped(a):
        return isinstance(a.base, np.memmap)

    monkeypatch.setenv("CORPUS_CACHE_DIR", str(tmp_path))
    built = FastLanguageIdentifier.default()
    assert not mapped(built._full[0])
    (saved,) = tmp_path.glob("py3langid-*")
    read = FastLanguageIdentifier.default()
    assert mapped(read._full[0]) and mapped(read._nm)
    texts = [t for _, t in read_dev(SAMPLE)] + list(EDGE_CASES.values())
    assert read.top_batch(texts, 5) == built.top_batch(texts, 5) == pair[1].top_batch(texts, 5)
    (saved / "table.npy").write_bytes(b"damaged")
    again = FastLanguageIdentifier.default()
    assert not mapped(again._full[0]) and again.top_batch(texts, 5) == built.top_batch(texts, 5)
    assert mapped(FastLanguageIdentifier.default()._full[0])   # the rebuild replaced the damaged copy
