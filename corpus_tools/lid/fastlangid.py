"""`FastLanguageIdentifier`: py3langid's scores, with the byte walk and the scoring done in numpy.

py3langid 0.4.0 finds its features by walking a byte DFA in a Python loop (`visit_counts`) and then
multiplies the log-counts by float16 rows of its 100,053 x 142 table, which numpy first converts to
float32 on every call: on a 300-character text the conversion costs more than the walk. This subclass
overrides only `_raw_score`; decoding, NFC, the sqrt-length softmax and the alias folding stay the
parent's, so `classify`, `rank` and `_decide` give the same numbers, bit for bit.

Why the walk can be vectorised: the DFA is an Aho-Corasick automaton over a trie of depth D = 6. After
reading bytes t it sits on the trie node of the longest suffix of t that is a node, so its state depends
only on the last D bytes of t: the state at byte i is the walk from the root over bytes i-D+1..i. All
positions take their D steps at once (the text is prefixed with D-1 bytes that no feature contains, so
the first positions need no special case). The property is checked on the model itself when the
identifier is built (`_check_automaton`, ~0.5 s): a BFS from the root finds the trie (every state is
entered by exactly one edge from the level above) and every one of the 26.7M transitions must be the
Aho-Corasick one (the child, else the failure state's transition). That is a proof for this model, not
a sample; a model that fails the check is walked by the parent's loop instead.

Scores: features are counted in first-occurrence order (the order of the parent's Counter, which fixes
the summation order of the product) and multiplied by a float32 copy of the table (57 MB, made once; numpy
promotes float16 to float32 exactly, so the product is the parent's). `top(text, k)` is `rank(text)[:k]`
without sorting all 142 labels in Python. `top_batch(texts, k)` is `[top(t, k) for t in texts]`, bit for
bit: the texts are joined with the pad between them and walked at once, the (text, feature) counts come
from one sort, and the softmax, alias folding and top-k run on all rows at once; only the product stays
one call per text (a segmented product would sum in another order).

Checked by tests/lid/test_fastlangid.py: `_decide` scores np.array_equal to the parent's and the same
`rank()[:3]` on the dev samples and a few thousand dev rows, plus edge cases (empty, one byte, spaces,
undecodable bytes, 10 kB, emoji), and `top_batch` against `top` in batches of 1, 7 and 256 mixing those.
Speed (2-core dev VM, ud_treebanks sentences of one language joined): `_decide` ~7,300 docs/s on
300-character texts (py3langid: ~4,100), ~4,000 on 1,000 characters (~1,500). Each call is ~60 small
numpy operations, so short texts gain least: on 300-character texts `top` in a loop costs ~142 µs a text,
`top_batch` ~50 µs in batches of 64, ~48 in batches of 256 and ~45 in batches of 1,024 (~3x; what is
left is the walk, ~10 µs, and the per-text product, ~14 µs, mostly fetching ~280 table rows). Building
the identifier takes ~1 s (0.5 s of it the check).
"""

from __future__ import annotations

import logging
import math

import numpy as np
from py3langid.langid import MODEL_FILE, RAW_FLOOR, LanguageIdentifier

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


class FastLanguageIdentifier(LanguageIdentifier):
    """A py3langid `LanguageIdentifier` whose `_raw_score` walks all byte positions at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nm = np.asarray(self.tk_nextmove)
        self._rb = np.asarray(self._rowbase, dtype=np.int64)
        self._out = np.asarray(self.tk_output, dtype=np.int64)
        checked = _check_automaton(self._nm, self._rb)
        if checked is None:
            LOGGER.warning("py3langid model is no bounded-depth Aho-Corasick automaton: walked in Python")
        self._depth, pad_byte = checked or (0, 0)
        self._pad = bytes([pad_byte]) * max(self._depth - 1, 0)
        self._n_feats = int(self._out.max()) + 1
        self._ptc_src = None
        self._ptc32 = None
        self._labels_src = None  # nb_classes that _keep_cols was computed for
        self._keep_cols = None  # the columns rank() reports: the first column of each label

    @classmethod
    def default(cls) -> FastLanguageIdentifier:
        """The model py3langid ships, with normalised probabilities (what `py3langid` the backend uses)."""
        return cls.from_model_file(MODEL_FILE, norm_probs=True)

    def _table32(self) -> np.ndarray:
        if self._ptc_src is not self.nb_ptc:  # set_languages swapped the table
            self._ptc32 = np.asarray(self.nb_ptc, dtype=np.float32)
            self._ptc_src = self.nb_ptc
        return self._ptc32

    def features(self, text: bytes) -> np.ndarray:
        """Feature index at every byte that emits one, in text order (what `visit_counts` appends)."""
        n = len(text)
        a = np.frombuffer(self._pad + text, dtype=np.uint8)
        nm, rb = self._nm, self._rb
        state = nm.take(rb[0] + a[:n])
        for j in range(1, self._depth):
            state = nm.take(rb.take(state) + a[j : j + n])
        feats = self._out.take(state)
        return feats[feats >= 0]

    def _raw_score(self, text):
        if not self._depth:
            return super()._raw_score(text)
        feats = self.features(text)
        if not feats.size:
            return super()._raw_score(b"")  # the parent's no-feature fill
        # distinct features in first-occurrence order: the key order of the parent's Counter, which fixes
        # the summation order of the product below
        distinct, first, counts = np.unique(feats, return_index=True, return_counts=True)
        order = np.argsort(first)
        rows = self._table32().take(distinct[order], axis=0)
        return np.log1p(counts[order].astype(np.float32)) @ rows + self.nb_pc

    def _keep(self) -> np.ndarray:
        if self._labels_src is not self.nb_classes:  # set_languages swapped the labels
            first = {}
            for i, c in enumerate(self.nb_classes):
                first.setdefault(c, i)
            self._keep_cols = np.array(sorted(first.values()), dtype=np.intp)
            self._labels_src = self.nb_classes
        return self._keep_cols

    def top(self, text, k: int = 3) -> list[tuple[str, float]]:
        """`rank(text)[:k]`: the k best labels with their scores (ties in label order, as `rank`)."""
        keep = self._keep()
        scores = self._decide(text)[keep]
        best = np.argsort(-scores, kind="stable")[:k]
        cols = keep[best].tolist()
        return [(self.nb_classes[i], s) for i, s in zip(cols, scores[best].tolist())]

    def top_batch(self, texts, k: int = 3) -> list[list[tuple[str, float]]]:
        """`[self.top(t, k) for t in texts]`, the same labels and scores bit for bit, with the walk, the
        counting, the softmax and the top-k done for many texts at once (`_batch_raw`). Texts are taken
        in chunks of at most BATCH_TEXTS texts and BATCH_BYTES bytes (a longer text goes alone)."""
        texts = list(texts)
        if not self._depth:
            return [self.top(t, k) for t in texts]
        encoded = [self._encode(t) for t in texts]
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

    def _batch_raw(self, encoded: list[bytes]) -> np.ndarray:
        """`_raw_score` of every text, one row each (float32).

        The texts are joined with the D-1 pad bytes between them (no feature spans a pad, so each
        position's state is the one the text alone gives) and walked at once; the (text, feature)
        counts come from one sort. The product stays one BLAS call per text, on the same arrays
        `_raw_score` makes: a segmented product (one sparse or stacked matmul for all texts) would sum
        in another order and round differently.
        """
        n_texts, n_classes = len(encoded), len(self.nb_classes)
        # the parent's no-feature fill: 0.0 under norm_probs, RAW_FLOOR otherwise
        raw = np.full((n_texts, n_classes), 0.0 if self._norm_probs else RAW_FLOOR, dtype=np.float32)
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
        feats, owner = feats[hit], owner[hit]
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
        table = self._table32()
        b = bounds.tolist()
        for i in range(n_texts):
            lo, hi = b[i], b[i + 1]
            if lo != hi:
                raw[i] = logc[lo:hi] @ table.take(feat_of[lo:hi], axis=0)
        has = bounds[1:] != bounds[:-1]
        raw[has] += self.nb_pc
        return raw

    def _top_encoded(self, encoded: list[bytes], k: int) -> list[list[tuple[str, float]]]:
        scores = self._batch_raw(encoded)
        if self._norm_probs:
            scale = np.array([1.0 / math.sqrt(len(t) or 1) for t in encoded], dtype=np.float64)
            scores *= scale.astype(np.float32)[:, None]
            np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
        for i, j in self._alias_pairs:
            if self._norm_probs:
                scores[:, i] += scores[:, j]
                scores[:, j] = 0.0
            else:
                np.maximum(scores[:, i], scores[:, j], out=scores[:, i])
                scores[:, j] = RAW_FLOOR
        keep = self._keep()
        scores = scores[:, keep]
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        cols = keep[best].tolist()
        vals = np.take_along_axis(scores, best, axis=1).tolist()
        names = self.nb_classes
        return [[(names[i], s) for i, s in zip(c, v)] for c, v in zip(cols, vals)]
