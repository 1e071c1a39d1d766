"""`CombinedLid`: the combined language identifier, a calibrated cascade over the LID backends.

Each backend's top-3 answer becomes a feature vector: its score for every registry language (ISO 639-3,
0 when not in its top 3), the mass it gives to non-target languages and its top-1 score; plus the script
measured from the text and the sample's length bin. A multinomial logistic regression (a stacker) per
cascade stage turns the features of the backends run so far into a posterior over the registry labels
(language + script: `srp_Cyrl`, `srp_Latn`) and `other`. The weights are fitted on the dev sets
(`language_ids/lid_combiner.json`, written by `python -m corpus_tools.lid.report --fit`); because they see
how each backend errs ("lid.176 says ces at 0.8 for a fifth of Slovak", "lingua never says mlt", "lid.176
calls Faroese Icelandic, py3langid does not"), the stacker corrects the systematic confusions instead of
averaging them.

Cascade: lid176 runs first; py3langid runs only while the stage's best posterior is below that stage's
`p_exit`, and lingua only while the lid176 + py3langid posterior still is. The exit thresholds are set per
stage and per sample length (short < 200 characters, long): lingua adds accuracy on sentences, hardly on
paragraphs (measured in language_ids/EVAL.md). Every backend reads the same fixed-size sample of the text
(`sample_text`: up to 300 characters, three windows of a longer text), so a 100 kB page costs what a
300-character one does, and the stacker sees text of the lengths it was fitted on. Use:

    lid = CombinedLid()
    result = lid.identify("Dobar dan, kako ste?")   # LidResult(label="hrv_Latn", score=..., top=[...])
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from corpus_tools.errors import ConfigError
from corpus_tools.languages import LANGUAGE_IDS, OTHER, confusable_groups, read_tsv, registry, target_codes
from corpus_tools.lid.backends import LidBackend, get_backend, script_of

COMBINER_FILE = LANGUAGE_IDS / "lid_combiner.json"
VERSION = "lid_combiner_v2"
# The sample every backend reads: texts up to SAMPLE_CHARS whole, longer ones as WINDOWS evenly spaced
# windows (start, middle, end) cut at spaces. fastText's and py3langid's cost is linear in the length.
SAMPLE_CHARS = 300
WINDOWS = 3
FEATURE_SCRIPTS = ("Latn", "Cyrl", "Grek", "Armn", "Geor")   # one-hot in the features; others: all zero
LENGTH_BINS = (50, 100, 200)   # sample length in characters: < 50, < 100, < 200, longer
LONG = LENGTH_BINS[-1]         # a sample this long is "long": its own exit thresholds and feature blocks
BATCH_SIZE = 256               # texts identified together: one backend call per cascade stage


def sample_text(text: str, n: int = SAMPLE_CHARS, windows: int = WINDOWS) -> str:
    """What the backends read, on one line with single spaces: `text` when it has at most n characters;
    else `windows` pieces of ~n/windows characters from the start, the middle and the end, each trimmed to
    whole words (a piece inside one long token stays whole)."""
    if len(text) <= n:
        return " ".join(text.split())
    size = n // windows
    words: list[str] = []
    for i in range(windows):
        s = round(i * (len(text) - size) / (windows - 1))
        piece = text[s:s + size].split()
        if len(piece) > 1 and s > 0 and not text[s - 1].isspace():
            piece = piece[1:]                     # drop the partial first word
        if len(piece) > 1 and s + size < len(text) and not text[s + size].isspace():
            piece = piece[:-1]                    # and the partial last one
        words.extend(piece)
    return " ".join(words)


@lru_cache(maxsize=1)
def lid_thresholds() -> dict[str, float]:
    """label -> the posterior its confusable group must reach for the label to be kept
    (language_ids/lid_thresholds.tsv, with each number's source)."""
    rows = {r["label"]: float(r["min_score"]) for r in read_tsv(LANGUAGE_IDS / "lid_thresholds.tsv")}
    unknown = set(rows) - set(registry())
    if unknown:
        raise ConfigError(f"lid_thresholds.tsv has labels outside the registry: {sorted(unknown)}")
    return rows


class Abstain:
    """Keep the best label only when its confusable group (the label alone outside the groups) holds at
    least the label's threshold of the posterior; otherwise the text is `other`, below threshold."""

    def __init__(self, classes: list[str]):
        code_of = [c.split("_")[0] for c in classes]
        self.min_score = np.array([lid_thresholds().get(c, 0.0) if c != OTHER else 0.0 for c in classes])
        self.members = []
        for i, code in enumerate(code_of):
            group = {code}.union(*[g for g in confusable_groups().values() if code in g])
            self.members.append(np.array([j for j, c in enumerate(code_of) if c in group and classes[j] != OTHER]
                                         or [i]))

    def keeps(self, post: np.ndarray, best: int) -> bool:
        return bool(post[self.members[best]].sum() >= self.min_score[best])


class Features:
    """The stacker's input for one cascade stage (a prefix of the backend order).

    Layout, in order: per backend [score of each target code (0 when outside its top 3), score mass on
    non-target labels, top-1 score]; the same blocks again, non-zero only for a long sample (>= the last
    LENGTH_BINS edge: a backend that is unreliable on a sentence can be trusted on a paragraph); per pair of
    backends the product of their scores for each target code (their agreement); the script one-hot
    (FEATURE_SCRIPTS), the length-bin one-hot, a bias.
    """

    def __init__(self, backends: tuple[str, ...], codes: list[str]):
        self.backends = backends
        self.codes = {c: i for i, c in enumerate(codes)}
        self.n_codes = len(codes)
        self.block = self.n_codes + 2                  # codes, non-target mass, top-1 score
        self.pairs = [(i, j) for j in range(len(backends)) for i in range(j)]
        self.scores = len(backends) * self.block
        self.tail = 2 * self.scores + len(self.pairs) * self.n_codes
        self.size = self.tail + len(FEATURE_SCRIPTS) + len(LENGTH_BINS) + 2

    def vector(self, raw: dict[str, list[tuple[str, float]]], script: str, n_chars: int) -> np.ndarray:
        x = np.zeros(self.size)
        nonreg = self.n_codes
        for k, b in enumerate(self.backends):
            base = k * self.block
            out = raw.get(b) or []
            for label, s in out:
                j = self.codes.get(label.split("_")[0])
                x[base + (j if j is not None else nonreg)] += s
            if out:
                x[base + nonreg + 1] = out[0][1]
        if n_chars >= LONG:
            x[self.scores:2 * self.scores] = x[:self.scores]
        n = self.n_codes
        for k, (i, j) in enumerate(self.pairs):
            base = 2 * self.scores + k * n
            x[base:base + n] = x[i * self.block:i * self.block + n] * x[j * self.block:j * self.block + n]
        if script in FEATURE_SCRIPTS:
            x[self.tail + FEATURE_SCRIPTS.index(script)] = 1
        x[self.tail + len(FEATURE_SCRIPTS) + sum(n_chars >= e for e in LENGTH_BINS)] = 1
        x[-1] = 1
        return x


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class LidResult:
    label: str                                   # registry label, or `other`
    score: float                                 # posterior of the best class, 0-1
    top: list[tuple[str, float]]                 # top 3 (label, posterior); `other` named by the backends
    below_threshold: bool = False                # the best class is a target its group holds too weakly
    backends_run: list[str] = field(default_factory=list)
    raw: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


@lru_cache(maxsize=2)
def load_combiner(path: str = str(COMBINER_FILE)) -> dict:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"missing {p}: run `make lid-eval` (python -m corpus_tools.lid.report --fit)")
    model = json.loads(p.read_text(encoding="utf-8"))
    if model.get("version") != VERSION:
        raise ConfigError(f"{p} is {model.get('version')!r}, this code reads {VERSION}: refit it with `make lid-eval`")
    if model["classes"][:-1] != list(registry()) or model["codes"] != target_codes():
        raise ConfigError(f"{p} was fitted for another language registry: refit it with `make lid-eval`")
    return model


class CombinedLid:
    """The combined identifier.

    p_exit: stop the cascade once the best posterior reaches this, 0-1, at every stage and length;
      default per stage and length from lid_combiner.json (chosen on the cross-fitted dev predictions
      and 1 kB documents: see language_ids/EVAL.md).
    backends: cascade order, cheapest first; default lid176, py3langid, lingua (the stages fitted).
    prior_weight: how many times likelier a language becomes when `<html lang>` / ccTLD name it, default 1
      (off). A weak prior: 3 moves only close calls (measured in language_ids/EVAL.md).
    """

    def __init__(self, p_exit: float | None = None, backends: tuple[str, ...] | None = None,
                 model_path: str | None = None, prior_weight: float = 1.0):
        model = load_combiner(str(model_path or COMBINER_FILE))
        self.order = tuple(backends or model["backends"])
        if self.order != tuple(model["backends"][:len(self.order)]):
            raise ConfigError(f"the combiner is fitted for the cascade {model['backends']}, not {list(self.order)}")
        stages = ["+".join(self.order[:i + 1]) for i in range(len(self.order))]
        # (short, long) exit threshold per stage; the last stage always decides
        self.p_exit = [(p_exit, p_exit) if p_exit is not None else
                       (model["p_exit"][s]["short"], model["p_exit"][s]["long"]) for s in stages[:-1]] + [(0.0, 0.0)]
        self.classes = list(model["classes"])
        codes = list(model["codes"])
        self.features = [Features(self.order[:i + 1], codes) for i in range(len(self.order))]
        self.weights = [np.asarray(model["weights"][s], dtype=np.float64) for s in stages]
        self.prior_weight = prior_weight
        self.abstain = Abstain(self.classes)
        self._backends: dict[str, LidBackend] = {}

    def backend(self, name: str) -> LidBackend:
        if name not in self._backends:
            self._backends[name] = get_backend(name)
        return self._backends[name]

    def _log_prior(self, hints: list[str] | None) -> np.ndarray | None:
        if not hints or self.prior_weight == 1.0:
            return None
        codes = {h.split("_")[0] for h in hints}   # a hint names a language (`deu`), not a script
        return np.array([math.log(self.prior_weight) if c.split("_")[0] in codes else 0.0 for c in self.classes])

    def identify(self, text: str, hints: list[str] | None = None) -> LidResult:
        """hints: ISO 639-3 codes from `<html lang>` / ccTLD (used only when prior_weight != 1)."""
        return self.identify_batch([text], [hints])[0]

    def identify_batch(self, texts: list[str], hints: list[list[str] | None] | None = None) -> list[LidResult]:
        """`identify` for many texts, BATCH_SIZE at a time: each cascade stage runs its backend on all the
        texts of a batch still undecided in one call, and scores them with one matrix product."""
        hints = hints or [None] * len(texts)
        return [r for i in range(0, len(texts), BATCH_SIZE)
                for r in self._identify_chunk(texts[i:i + BATCH_SIZE], hints[i:i + BATCH_SIZE])]

    def _identify_chunk(self, texts: list[str], hints: list[list[str] | None]) -> list[LidResult]:
        if not texts:
            return []
        samples = [sample_text(t) for t in texts]
        scripts = [script_of(s) for s in samples]
        lengths = [len(s) for s in samples]
        long = np.array(lengths) >= LONG
        priors = [self._log_prior(h) for h in hints]
        raws: list[dict[str, list[tuple[str, float]]]] = [{} for _ in texts]
        post = np.zeros((len(texts), len(self.classes)))
        todo = np.arange(len(texts))
        for stage, name in enumerate(self.order):
            outs = self.backend(name).predict_batch([samples[i] for i in todo], k=3, scripts=[scripts[i] for i in todo])
            for i, out in zip(todo, outs):
                raws[i][name] = out
            X = np.array([self.features[stage].vector(raws[i], scripts[i], lengths[i]) for i in todo])
            z = X @ self.weights[stage]
            for row, i in enumerate(todo):
                if priors[i] is not None:
                    z[row] += priors[i]
            p = softmax(z)
            post[todo] = p
            short_exit, long_exit = self.p_exit[stage]
            todo = todo[p.max(axis=1) < np.where(long[todo], long_exit, short_exit)]
            if not len(todo):
                break
        return [self.result(post[i], raws[i]) for i in range(len(texts))]

    @staticmethod
    def other_label(raw: dict[str, list[tuple[str, float]]]) -> str:
        """The non-target language the backends name first (`jpn_Jpan`), for the evidence."""
        for out in raw.values():
            for label, _ in out[:1]:
                if label not in registry():
                    return label
        return OTHER

    def result(self, post: np.ndarray, raw: dict[str, list[tuple[str, float]]]) -> LidResult:
        order = np.argsort(-post)[:3]
        top = [(self.classes[i] if self.classes[i] != OTHER else self.other_label(raw), round(float(post[i]), 4))
               for i in order]
        best = self.classes[order[0]]
        below = best != OTHER and not self.abstain.keeps(post, order[0])
        return LidResult(label=OTHER if below else best, score=round(float(post[order[0]]), 4), top=top,
                         below_threshold=below, backends_run=list(raw), raw=raw)
