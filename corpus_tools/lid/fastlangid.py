"""`FastLanguageIdentifier`: py3langid's scores, computed in numpy from the model's public arrays.

py3langid 0.4.0 finds its features by walking a byte DFA in a Python loop (`visit_counts`) and then
multiplies the log-counts by float16 rows of its 100,053 x 142 table, which numpy first converts to
float32 on every call: on a 300-character text the conversion costs more than the walk. This class is its own
scorer over the arrays py3langid's `LanguageIdentifier` exposes (`nb_ptc`, `nb_pc`, `nb_classes`,
`tk_nextmove`, `tk_row`, `tk_output`): it neither subclasses py3langid nor calls or overrides a private
method of it. It does what py3langid documents and does, step for step, so `rank` gives py3langid's numbers,
bit for bit: the text is decoded (py3langid's public `decode_trimmed`), lower-cased when all upper case, NFC
and UTF-8 encoded; the log1p feature counts times the table plus the class prior are the raw scores (no
feature: 0.0 under normalised probabilities, else `RAW_FLOOR`); normalised probabilities are a softmax of
the raw scores over sqrt(bytes); a label that is two columns (script aliases, srl -> sr) gets one score.

Why the walk can be vectorised: the DFA is an Aho-Corasick automaton over a trie of depth D = 6. After
reading bytes t it sits on the trie node of the longest suffix of t that is a node, so its state depends
only on the last D bytes of t: the state at byte i is the walk from the root over bytes i-D+1..i. All
positions take their D steps at once (the text is prefixed with D-1 bytes that no feature contains, so
the first positions need no special case). The property is checked on the model itself when the
identifier is built (`_check_automaton`, ~0.5 s): a BFS from the root finds the trie (every state is
entered by exactly one edge from the level above) and every one of the 26.7M transitions must be the
Aho-Corasick one (the child, else the failure state's transition). That is a proof for this model, not
a sample; a model that fails the check is walked byte by byte in Python instead.

Scores: features are counted in first-occurrence order (the order of py3langid's Counter, which fixes
the summation order of the product) and multiplied by a float32 copy of the table (57 MB, made once, the
float16 original not kept; numpy promotes float16 to float32 exactly, so the product is py3langid's).
`top(text, k)` is `rank(text)[:k]` without sorting all 142 labels in Python. `top_batch(texts, k)` is
`[top(t, k) for t in texts]`, bit for bit: the texts are joined with the pad between them and walked at
once, the (text, feature) counts come from one sort, and the softmax, alias folding and top-k run on all
rows at once; only the product stays one call per text (a segmented product would sum in another order).

Checked by tests/lid/test_fastlangid.py against py3langid's public `rank()` (every label's score, exact)
with and without normalised probabilities, on the dev samples and a few thousand dev rows, plus edge cases
(empty, one byte, spaces, undecodable bytes, 10 kB, emoji), restricted languages, and `top_batch` against
`top` in batches of 1, 7 and 256 mixing those.
Speed (2-core dev VM, ud_treebanks sentences of one language joined): ~7,300 docs/s on
300-character texts (py3langid: ~4,100), ~4,000 on 1,000 characters (~1,500). Each call is ~60 small
numpy operations, so short texts gain least: on 300-character texts `top` in a loop costs ~142 µs a text,
`top_batch` ~50 µs in batches of 64, ~48 in batches of 256 and ~45 in batches of 1,024 (~3x; what is
left is the walk, ~10 µs, and the per-text product, ~14 µs, mostly fetching ~280 table rows). Building
the identifier takes ~1 s (0.5 s of it the check); `default()` does it once per machine (`_Saved`).
"""

from __future__ import annotations

import logging
import math
import unicodedata

import numpy as np
from py3langid.langid import MODEL_FILE, RAW_FLOOR, LanguageIdentifier, decode_trimmed

LOGGER = logging.getLogger(__name__)
CHECK_BLOCK = 8192  # states per block in the automaton check (bounds its memory to ~30 MB)
BATCH_BYTES = 1 << 18  # top_batch walks at most this many bytes (or BATCH_TEXTS texts) at once
BATCH_TEXTS = 1024


def _check_automaton(nextmove: np.ndarray, rowbase: np.ndarray) -> tuple[int, int] | None:
    """(trie depth D, a byte no feature contains) when the DFA is an Aho-Corasick automaton over a trie
    rooted at state 0; None otherwise (or when every byte occurs in some node string)."""
    n_states = len(rowbase)
    cols = np.arange(256, dtype=np.int64)

    def rows(states: np.ndarray) -> np.ndarray:
        return nextmove[rowbase[states][:, None] + cols].astype(np.int64)

    depth = np.full(n_states, -1, dtype=np.int64)
    fail = np.zeros(n_states, dtype=np.int64)
    depth[0] = 0
    used = np.zeros(256, dtype=bool)  # bytes that lead somewhere other than the root
    frontier, level = np.zeros(1, dtype=np.int64), 0
    while frontier.size:
        found = []
        for lo in range(0, frontier.size, CHECK_BLOCK):
            block = frontier[lo : lo + CHECK_BLOCK]
            row = rows(block)
            used |= (row != 0).any(axis=0)
            new = depth[row] == -1
            parent, byte = np.nonzero(new)
            kids = row[parent, byte]
            if np.unique(kids).size != kids.size:
                return None  # a state entered twice from one level: not a trie
            depth[kids] = level + 1
            fail[kids] = 0 if level == 0 else nextmove[rowbase[fail[block[parent]]] + byte]
            found.append(kids)
        frontier = np.concatenate(found)
        if np.unique(frontier).size != frontier.size:
            return None
        level += 1
    if (depth < 0).any():
        return None
    # Each non-root state entered by exactly one edge from the level above (trie), and every other edge
    # is the failure state's (Aho-Corasick); the root's other edges stay at the root.
    tree_edges = 0
    for lo in range(0, n_states, CHECK_BLOCK):
        block = np.arange(lo, min(lo + CHECK_BLOCK, n_states), dtype=np.int64)
        row = rows(block)
        child = depth[row] == depth[block][:, None] + 1
        tree_edges += int(child.sum())
        expected = rows(fail[block])
        if lo == 0:
            expected[0] = 0
        if not (row == np.where(child, row, expected)).all():
            return None
    if tree_edges != n_states - 1:
        return None
    unused = np.flatnonzero(~used)
    if not unused.size:
        return None
    return int(depth.max()), int(unused[0])


def encode(text: str | bytes) -> bytes:
    """The bytes py3langid scores for `text`: bytes are decoded when they can be (a partial character at the
    end trimmed), a text all in upper case is lower-cased, NFC, UTF-8 (lone surrogates kept)."""
    if isinstance(text, bytes):
        decoded = decode_trimmed(text)
        if decoded is None:
            return text
        text = decoded
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


class FastLanguageIdentifier:
    """py3langid's naive Bayes identifier over its model arrays (the arguments of py3langid's
    `LanguageIdentifier`), scored in numpy. norm_probs: probabilities (softmax over sqrt(bytes)), else raw
    log scores."""

    def __init__(self, nb_ptc, nb_pc, nb_classes, tk_nextmove, tk_output, norm_probs: bool = False, *, tk_row,
                 checked: tuple[int, int] | None = None):
        """checked: `_check_automaton`'s result for these arrays when it is known (`_Saved`), else it is run."""
        self.norm_probs = norm_probs
        self._full = (np.asarray(nb_ptc, dtype=np.float32), np.asarray(nb_pc), list(nb_classes))
        self._nm = np.asarray(tk_nextmove)
        self._rb = np.asarray(tk_row, dtype=np.int64) << 8   # row offset of every state
        self._out = np.asarray(tk_output, dtype=np.int64)
        if checked is None:
            checked = _check_automaton(self._nm, self._rb)
        if checked is None:
            LOGGER.warning("py3langid model is no bounded-depth Aho-Corasick automaton: walked in Python")
        self._depth, pad_byte = checked or (0, 0)
        self._pad = bytes([pad_byte]) * max(self._depth - 1, 0)
        self._n_feats = int(self._out.max()) + 1
        self.set_languages(None)

    @classmethod
    def default(cls) -> FastLanguageIdentifier:
        """The model py3langid ships, with normalised probabilities (what `py3langid` the backend uses).

        Building it costs ~1.5 CPU s (decompressing the model, the float32 table, the automaton check), so the
        built arrays are kept on disk (`_Saved`) and memory-mapped by the next process (~0.01 s; the pages of
        the table a worker never reads are never loaded)."""
        saved = _Saved.for_model()
        ident = saved.load(cls)
        if ident is None:
            model = LanguageIdentifier.from_model_file(MODEL_FILE)
            ident = cls(model.nb_ptc, model.nb_pc, model.nb_classes, model.tk_nextmove, model.tk_output,
                        norm_probs=True, tk_row=model.tk_row)
            saved.save(ident)
        return ident

    @property
    def labels(self) -> list[str]:
        """Distinct output labels (a label with two script columns, srl -> sr, once)."""
        return list(dict.fromkeys(self.classes))

    def set_languages(self, langs=None) -> None:
        """Score only the labels `langs` (ISO 639 codes, every column of each), or all again (None)."""
        table, prior, classes = self._full
        if langs is not None:
            unknown = set(langs) - set(classes)
            if unknown:
                raise ValueError(f"Unknown language code(s): {unknown}")
            cols = [i for i, c in enumerate(classes) if c in set(langs)]
            table, prior, classes = table[:, cols], prior[cols], [classes[i] for i in cols]
        self._table, self._prior, self.classes = table, prior, classes
        first: dict[str, int] = {}
        self._aliases = []                       # (first column, duplicate column) of a label
        for i, c in enumerate(classes):
            if c in first:
                self._aliases.append((first[c], i))
            else:
                first[c] = i
        self._keep = np.array(sorted(first.values()), dtype=np.intp)   # the columns a label is reported by

    def features(self, text: bytes) -> np.ndarray:
        """Feature index at every byte that emits one, in text order (what py3langid's walk finds)."""
        if not self._depth:
            return self._walk_python(text)
        n = len(text)
        a = np.frombuffer(self._pad + text, dtype=np.uint8)
        nm, rb = self._nm, self._rb
        state = nm.take(rb[0] + a[:n])
        for j in range(1, self._depth):
            state = nm.take(rb.take(state) + a[j : j + n])
        feats = self._out.take(state)
        return feats[feats >= 0]

    def _walk_python(self, text: bytes) -> np.ndarray:
        nm, rb, out = self._nm.tolist(), self._rb.tolist(), self._out.tolist()
        state, found = 0, []
        for byte in text:
            state = nm[rb[state] + byte]
            if out[state] >= 0:
                found.append(out[state])
        return np.array(found, dtype=np.int64)

    def scores(self, text: str | bytes) -> np.ndarray:
        """The score of every column (float32): probabilities under norm_probs, else raw log scores; a
        label's duplicate columns folded into its first one."""
        return self._scores([encode(text)])[0]

    def rank(self, text: str | bytes) -> list[tuple[str, float]]:
        """Every label by score, best first (ties in label order): py3langid's `rank`."""
        return self.top(text, len(self._keep))

    def top(self, text: str | bytes, k: int = 3) -> list[tuple[str, float]]:
        """`rank(text)[:k]`: the k best labels with their scores."""
        return self._top_encoded([encode(text)], k)[0]

    def top_batch(self, texts, k: int = 3) -> list[list[tuple[str, float]]]:
        """`[self.top(t, k) for t in texts]`, the same labels and scores bit for bit, with the walk, the
        counting, the softmax and the top-k done for many texts at once (`_batch_raw`). Texts are taken
        in chunks of at most BATCH_TEXTS texts and BATCH_BYTES bytes (a longer text goes alone)."""
        encoded = [encode(t) for t in texts]
        out: list[list[tuple[str, float]]] = []
        lo = 0
        while lo < len(encoded):
            hi, size = lo + 1, len(encoded[lo])
            while hi < len(encoded) and hi - lo < BATCH_TEXTS and size + len(encoded[hi]) <= BATCH_BYTES:
                size += len(encoded[hi])
                hi += 1
            out.extend(self._top_encoded(encoded[lo:hi], k))
            lo = hi
        return out

    def _walk_batch(self, encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(feature, text index) of every feature the texts emit, in text order.

        The texts are joined with the D-1 pad bytes between them (no feature spans a pad, so each
        position's state is the one the text alone gives) and walked at once.
        """
        n_texts = len(encoded)
        if not self._depth:
            feats = [self._walk_python(t) for t in encoded]
            owner = np.repeat(np.arange(n_texts, dtype=np.int64), [len(f) for f in feats])
            return (np.concatenate(feats) if feats else np.zeros(0, np.int64)), owner
        pad = self._pad
        buf = np.frombuffer(pad + pad.join(encoded), dtype=np.uint8)
        lens = np.fromiter(map(len, encoded), dtype=np.int64, count=n_texts)
        # the text of every byte after the first pad (each pad counted with the text after it; pads
        # emit nothing, as the pad byte sends every state to the root, and are masked out anyway)
        n = buf.size - len(pad)
        starts = np.cumsum(lens + len(pad)) - lens - len(pad)  # start of each text's bytes, minus the pad
        owner = np.repeat(np.arange(n_texts, dtype=np.int64), lens + len(pad))[len(pad):]
        in_text = np.ones(buf.size, dtype=bool)
        for j in range(len(pad)):
            in_text[starts[1:] + j] = False  # the pads between texts
        in_text = in_text[len(pad):]
        nm, rb = self._nm, self._rb
        state = nm.take(rb[0] + buf[:n])
        for j in range(1, self._depth):
            state = nm.take(rb.take(state) + buf[j : j + n])
        feats = self._out.take(state)
        hit = (feats >= 0) & in_text
        return feats[hit], owner[hit]

    def _batch_raw(self, encoded: list[bytes]) -> np.ndarray:
        """The raw score of every text, one row each (float32): log1p of each feature's count times its
        table row, summed in first-occurrence order, plus the class prior; no feature: 0.0 under
        norm_probs, RAW_FLOOR otherwise. The (text, feature) counts come from one sort; the product
        stays one BLAS call per text, as py3langid's: a segmented product (one sparse or stacked matmul
        for all texts) would sum in another order and round differently."""
        n_texts, n_classes = len(encoded), len(self.classes)
        raw = np.full((n_texts, n_classes), 0.0 if self.norm_probs else RAW_FLOOR, dtype=np.float32)
        feats, owner = self._walk_batch(encoded)
        if not feats.size:
            return raw
        # distinct (text, feature) pairs in first-occurrence order within each text, with their counts:
        # sort (key, position) packed in one int64, so the first element of each key's run is the key's
        # first position; marking those positions keeps text order and first-occurrence order
        m = feats.size
        shift = max(m - 1, 1).bit_length()
        sorted_keys = np.sort(((owner * self._n_feats + feats) << shift) | np.arange(m, dtype=np.int64))
        keys, positions = sorted_keys >> shift, sorted_keys & ((1 << shift) - 1)
        run_start = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        run_len = np.diff(np.r_[run_start, m])
        count_at = np.zeros(m, dtype=np.int64)
        count_at[positions[run_start]] = run_len
        firsts = np.flatnonzero(count_at)  # first positions, in text order then first-occurrence order
        logc = np.log1p(count_at[firsts].astype(np.float32))
        feat_of = feats[firsts]
        bounds = np.searchsorted(owner[firsts], np.arange(n_texts + 1))
        table = self._table
        b = bounds.tolist()
        for i in range(n_texts):
            lo, hi = b[i], b[i + 1]
            if lo != hi:
                raw[i] = logc[lo:hi] @ table.take(feat_of[lo:hi], axis=0)
        has = bounds[1:] != bounds[:-1]
        raw[has] += self._prior
        return raw

    def _scores(self, encoded: list[bytes]) -> np.ndarray:
        scores = self._batch_raw(encoded)
        if self.norm_probs:
            scale = np.array([1.0 / math.sqrt(len(t) or 1) for t in encoded], dtype=np.float64)
            scores *= scale.astype(np.float32)[:, None]
            np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
        for i, j in self._aliases:
            if self.norm_probs:
                scores[:, i] += scores[:, j]
                scores[:, j] = 0.0
            else:
                np.maximum(scores[:, i], scores[:, j], out=scores[:, i])
                scores[:, j] = RAW_FLOOR
        return scores

    def _top_encoded(self, encoded: list[bytes], k: int) -> list[list[tuple[str, float]]]:
        keep = self._keep
        scores = self._scores(encoded)[:, keep]
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        cols = keep[best].tolist()
        vals = np.take_along_axis(scores, best, axis=1).tolist()
        names = self.classes
        return [[(names[i], s) for i, s in zip(c, v)] for c, v in zip(cols, vals)]


class _Saved:
    """The arrays of a built default identifier, as .npy files under the cache dir (`storage.cache_dir`), keyed
    by py3langid's version and model file and numpy's version; a missing, stale or unreadable copy is rebuilt."""

    ARRAYS = ("table", "prior", "nextmove", "tk_row", "output")
    FORMAT = 2   # of the saved files: part of the key

    def __init__(self, path):
        self.path = path

    @classmethod
    def for_model(cls) -> _Saved:
        import hashlib
        from importlib.metadata import version
        from pathlib import Path

        import py3langid

        from corpus_tools.core import storage

        model = Path(py3langid.__file__).parent / MODEL_FILE
        stat = model.stat() if model.exists() else None
        key = hashlib.sha256(repr((cls.FORMAT, version("py3langid"), np.__version__,
                                   stat and (stat.st_size, stat.st_mtime_ns))).encode()).hexdigest()[:16]
        return cls(storage.cache_dir() / f"py3langid-{key}")

    def load(self, ident_cls):
        import json

        try:
            meta = json.loads((self.path / "meta.json").read_text())
            # memory-mapped; the constructor takes plain ndarray views of them (memmap costs ~10 % per operation)
            a = {name: np.load(self.path / f"{name}.npy", mmap_mode="r") for name in self.ARRAYS}
            return ident_cls(a["table"], a["prior"], meta["classes"], a["nextmove"], a["output"], norm_probs=True,
                             tk_row=a["tk_row"], checked=(meta["depth"], meta["pad_byte"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):   # damaged: removed, so that the rebuild replaces it
            import shutil

            shutil.rmtree(self.path, ignore_errors=True)
            return None

    def save(self, ident) -> None:
        import json
        import os
        import shutil
        import tempfile

        if not ident._depth or not ident.norm_probs:
            return   # only the checked automaton is kept: a model walked in Python is not this fast path's
        table, prior, classes = ident._full
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.mkdtemp(dir=self.path.parent, prefix=self.path.name + ".tmp")
        except OSError:   # a read-only or full disk only costs speed
            return
        try:
            for name, arr in zip(self.ARRAYS, (table, prior, ident._nm, ident._rb >> 8, ident._out)):
                np.save(os.path.join(tmp, f"{name}.npy"), arr)
            with open(os.path.join(tmp, "meta.json"), "w") as fh:
                json.dump({"classes": classes, "depth": ident._depth, "pad_byte": ident._pad[0] if ident._pad else 0}, fh)
            os.replace(tmp, self.path)
        except OSError:   # a full disk, or another process saved it first
            shutil.rmtree(tmp, ignore_errors=True)
