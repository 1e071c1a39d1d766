"""A Serbo-Croatian (BCMS) discriminator: which standard a text is written in, once the combined identifier
has decided that it is one of them.

    disc = BcmsDiscriminator.default()                  # language_ids/lid_bcms_ngrams.tsv
    post = disc.refine(post, classes, text, script)     # the group's mass redistributed among its members

Every LID backend confuses Serbian in Latin script, Croatian, Bosnian and Montenegrin (language_ids/EVAL.md:
on UD's Serbian sentences py3langid and lingua say Bosnian). The standards differ in spelling (the jat
reflex: `vreme` / `vrijeme`), in vocabulary (`tko`/`ko`, `tisuća`/`hiljada`, `sedmica`/`tjedan`) and in
morphology, which character n-grams see. This is a multinomial naive Bayes over the character 1-4-grams
of the text's distinct words (lower case, Serbian Cyrillic transliterated to Latin, so one model serves both
scripts), fitted by `tools/lid_fit.py:fit_bcms` like the trust model: leave-one-source-out for the figures,
on every source's BCMS rows for the shipped table (language_ids/EVAL.md). Each word counts once per text
(binarised naive Bayes): a frequent function word (`da`, 29 of the log-odds of a Croatian UDHR page that a
token count labelled Bosnian) weighs like any other word, which also scored higher out of source on the
choice sources (EVAL.md). Only n-grams seen at least MIN_COUNT times are kept (the TSV holds their
log-probability per standard, centred).

`refine` acts when the group's labels in the text's script together hold more of the posterior than any
other class; it leaves their share as the trust model gave it (so whether a text is Serbo-Croatian at all,
and every threshold, is unchanged) and multiplies the members' posteriors by
exp(WEIGHT x the discriminator's log-likelihood / sqrt(n-grams)): a damped naive Bayes, since its n-grams
are far from independent. The members are the group's labels in the text's script; the group prior
(language_ids/lid_priors.tsv) is already part of the trust model's posterior. A standard whose fitting text
comes from fewer than MIN_SOURCES sources is not scored (its posterior stays the trust model's): Montenegrin
has text only in the UDHR, and a column fitted on one text learns that text's style, not the standard (the
sample pipeline run labelled UDHR Serbian pages Montenegrin when it was scored).
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache

import numpy as np

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import LANGUAGE_IDS, macrolanguages
from corpus_tools.lid.markers import WORD, latin_lower

NGRAM_FILE = LANGUAGE_IDS / "lid_bcms_ngrams.tsv"
ORDERS = (1, 2, 3, 4)   # character n-gram lengths, over " word " (the spaces mark the word's edges)
MIN_COUNT = 3           # n-grams seen fewer times in the fitting rows are dropped
MIN_SOURCES = 2         # a standard is scored only with fitting text from this many sources (not Montenegrin)
WEIGHT = 6.0            # the damping of the log-likelihood (chosen on the choice sources out of source: EVAL.md)
MAX_CHARS = 2000        # the discriminator reads the first this many characters (as lid176 does)
EDGE = "\u00b7"          # how the TSV writes a word edge (a space): `·ko·` is the word `ko`


def normalise(text: str) -> str:
    return latin_lower(text[:MAX_CHARS])


def ngrams(text: str) -> Counter:
    """Character n-grams (ORDERS) of the distinct words of the normalised text, with their counts."""
    out: Counter = Counter()
    for w in set(WORD.findall(normalise(text))):
        if w.isdigit():
            continue
        w = f" {w} "
        for n in ORDERS:
            out.update(w[i:i + n] for i in range(len(w) - n + 1))
    return out


@lru_cache(maxsize=1)
def bcms_codes() -> tuple[str, ...]:
    """The standards the discriminator separates: the target codes of the Serbo-Croatian macrolanguage."""
    return tuple(macrolanguages()["hbs"])


class BcmsDiscriminator:
    """codes: the standards it scores (those with fitting text from at least MIN_SOURCES sources);
    table: n-gram -> centred log-probability per code (in `codes` order)."""

    def __init__(self, codes: tuple[str, ...], table: dict[str, np.ndarray], weight: float = WEIGHT):
        self.codes = codes
        self.table = table
        self.weight = weight
        self._members: dict = {}

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> "BcmsDiscriminator":
        if not NGRAM_FILE.exists():
            raise ConfigError(f"missing {NGRAM_FILE}: run `make lid-eval` (python -m tools.lid_report --fit)")
        codes, table = None, {}
        with open(NGRAM_FILE, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#"):
                    continue
                ngram, *vals = line.rstrip("\n").split("\t")
                if codes is None:
                    codes = tuple(vals)
                    continue
                table[ngram.replace(EDGE, " ")] = np.array(vals, dtype=np.float64)
        if not codes or not set(codes) <= set(bcms_codes()):
            raise ConfigError(f"{NGRAM_FILE} is for {codes}, the registry's group is {bcms_codes()}: refit it")
        return cls(codes, table)

    def loglik(self, text: str) -> np.ndarray:
        """Damped log-likelihood per code (bcms_codes order): sum of count x log-probability of the known
        n-grams, over sqrt(their number)."""
        z, n = np.zeros(len(self.codes)), 0
        for g, c in ngrams(text).items():
            row = self.table.get(g)
            if row is not None:
                z += c * row
                n += c
        return self.weight * z / math.sqrt(n) if n else z

    def refine(self, post: np.ndarray, classes: list[str], text: str, script: str) -> np.ndarray:
        """post (one row) with the mass of the group's labels in `script` redistributed by the
        discriminator, when those labels together hold more of it than any other class; else unchanged
        (then the n-grams are not even counted: the discriminator costs nothing on other languages)."""
        key = (tuple(classes), script)
        if key not in self._members:
            pairs = [(i, self.codes.index(c.split("_")[0])) for i, c in enumerate(classes)
                     if c.split("_")[0] in self.codes and c.endswith("_" + script)]
            rest = np.ones(len(classes), dtype=bool)
            rest[[i for i, _ in pairs]] = False
            self._members[key] = (np.array([i for i, _ in pairs], dtype=int), [k for _, k in pairs], rest)
        idx, codes, rest = self._members[key]
        if len(idx) < 2:
            return post
        mass = post[idx].sum()
        if mass <= 0 or (rest.any() and mass < post[rest].max()):
            return post
        ll = self.loglik(text)[codes]
        w = post[idx] * np.exp(ll - ll.max())
        out = post.copy()
        out[idx] = mass * w / w.sum()
        return out
