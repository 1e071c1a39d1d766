"""`CombinedLid`: the combined language identifier, a calibrated cascade over the LID backends.

Each backend's top-1 answer is turned into an observation `code|confidence-bin` (plus the script measured
from the text). A naive-Bayes vote with a flat prior over the target languages and `other` turns the
observations into a posterior, using per-backend confusion counts fitted on held-out dev data
(`language_ids/lid_combiner.json`, written by `python -m corpus_tools.lid.report --fit`). Because the counts
say how each backend errs ("lid.176 says ces at 0.8 for a fifth of Slovak", "lingua never says mlt"),
the vote corrects the systematic confusions instead of averaging them.

Cascade: the cheap backends run first (lid176, then py3langid); the expensive one (lingua) runs only
while the posterior of the best language is below `p_exit`. Use:

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
from corpus_tools.languages import LANGUAGE_IDS, OTHER, iso639_1_to_3, registry
from corpus_tools.lid.backends import LidBackend, clean, get_backend, script_of

COMBINER_FILE = LANGUAGE_IDS / "lid_combiner.json"
# Confidence bins of a backend's top-1 score (upper-open edges); chosen before fitting, not tuned.
BINS = (0.5, 0.8, 0.95, 0.99)
# The confusable groups of issue 12 (ISO 639-3; hbs is lid.176's `sh`): never decided by the first backend alone.
CONFUSABLE = frozenset("hrv bos srp cnr hbs ces slk dan nob nno glg por spa cat est fin bel rus ukr mkd bul".split())


def conf_bin(score: float) -> int:
    return sum(score >= e for e in BINS)


def observation(label: str, score: float) -> str:
    return f"{label.split('_')[0]}|{conf_bin(score)}"


def features(raw: dict[str, list[tuple[str, float]]], script: str) -> dict[str, str]:
    """The vote's observations: measured script, each backend's top-1 code and confidence bin, and its
    runner-up code (which carries the cs/sk, nb/nn, hr/bs/sr doubt a top-1 alone hides)."""
    obs = {"script": script}
    for b, out in raw.items():
        if out:
            obs[b] = observation(*out[0])
            # a runner-up behind a >= 0.99 answer is noise (it decides nothing on 1 kB documents)
            sure = out[0][1] >= BINS[-1]
            obs[b + "#2"] = out[1][0].split("_")[0] if len(out) > 1 and not sure else "-"
    return obs


@dataclass
class LidResult:
    label: str                                   # registry label, or `other`
    score: float                                 # posterior of the chosen language, 0-1
    top: list[tuple[str, float]]                 # top 3 (label, posterior); non-targets keep their own code
    backends_run: list[str] = field(default_factory=list)
    raw: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def fit_counts(observations: dict[str, list[str]], gold: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """counts[feature][class][observation] from parallel lists; gold are classes (ISO 639-3 or `other`)."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for feat, obs in observations.items():
        table = counts.setdefault(feat, {})
        for y, o in zip(gold, obs):
            row = table.setdefault(y, {})
            row[o] = row.get(o, 0) + 1
    return counts


class NaiveBayesVote:
    """log P(y | obs) = log prior(y) + sum_f log P(obs_f | y), additive smoothing alpha per feature.

    Classes are the registry labels (language + script: `srp_Cyrl`, `srp_Latn`), every other language or
    language-script pair seen in fitting (UDHR has ~380; `bos_Cyrl` is one, not a target), so a
    non-target language has a sharp likelihood of its own instead of one diffuse `other`; the non-target
    classes share `other_mass` of the prior, the targets share the rest equally. The posterior of `other`
    is the sum over the non-target classes.
    """

    def __init__(self, counts: dict, alpha: float = 0.5, other_mass: float = 0.5):
        self.alpha = alpha
        targets = list(registry())
        seen = {y for table in counts.values() for y in table}
        self.targets = targets
        self.others = sorted(seen - set(targets))
        self.classes = targets + self.others
        self.log_prior = {y: math.log((1 - other_mass) / len(targets)) for y in targets}
        for y in self.others:
            self.log_prior[y] = math.log(other_mass / len(self.others))
        index = {y: i for i, y in enumerate(self.classes)}
        self.prior_vec = np.array([self.log_prior[y] for y in self.classes])
        # one log-likelihood vector over the classes per (feature, observation): a vote is a few vector sums
        self.loglik: dict[str, dict[str, np.ndarray]] = {}
        self.unseen: dict[str, np.ndarray] = {}
        for feat, table in counts.items():
            vocab = sorted({o for row in table.values() for o in row})
            n = np.zeros(len(self.classes))
            mat = np.zeros((len(vocab), len(self.classes)))
            col = {o: j for j, o in enumerate(vocab)}
            for y, row in table.items():
                for o, c in row.items():
                    mat[col[o], index[y]] = c
                n[index[y]] = sum(row.values())
            denom = n + alpha * (len(vocab) + 1)
            logs = np.log((mat + alpha) / denom)
            self.loglik[feat] = {o: logs[j] for o, j in col.items()}
            self.unseen[feat] = np.log(alpha / denom)
        self._target_idx = np.array([index[y] for y in targets])
        self._other_idx = np.array([index[y] for y in self.others], dtype=int)

    def posterior(self, obs: dict[str, str], hints: dict[str, float] | None = None
                  ) -> tuple[list[tuple[str, float]], str | None]:
        """(targets and `other` by posterior, best first; the most likely non-target class)."""
        s = self.prior_vec.copy()
        if hints:
            for y, w in hints.items():
                s[self.classes.index(y)] += w
        for feat, o in obs.items():
            table = self.loglik.get(feat)
            if table is not None:
                s += table.get(o, self.unseen[feat])
        p = np.exp(s - s.max())
        p /= p.sum()
        tp = p[self._target_idx]
        other = float(p[self._other_idx].sum())
        order = np.argsort(-tp)[:3]
        out = [(self.targets[i], float(tp[i])) for i in order]
        out.append((OTHER, other))
        out.sort(key=lambda x: -x[1])
        best_other = self.others[int(np.argmax(p[self._other_idx]))] if len(self.others) else None
        return out, best_other


@lru_cache(maxsize=2)
def load_combiner(path: str = str(COMBINER_FILE)) -> dict:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"missing {p}: run `make lid-eval` (python -m corpus_tools.lid.report --fit)")
    model = json.loads(p.read_text(encoding="utf-8"))
    missing = set(registry()) - {y for table in model["counts"].values() for y in table}
    if missing:
        raise ConfigError(f"{p} has no counts for target language(s) {sorted(missing)}: refit it")
    return model


class CombinedLid:
    """The combined identifier.

    p_exit: stop the cascade once the best posterior reaches this, 0-1, default from lid_combiner.json
      (0.99: chosen on the cross-fitted dev predictions as the lowest value that costs no macro F1).
    backends: cascade order, cheapest first; default lid176, py3langid, lingua (the ones the counts cover).
    prior_weight: how many times likelier a language becomes when `<html lang>` / ccTLD name it, default 1
      (off). A weak prior: 3 moves only close calls (measured in language_ids/EVAL.md).
    """

    def __init__(self, p_exit: float | None = None, backends: tuple[str, ...] | None = None,
                 model_path: str | None = None, prior_weight: float = 1.0):
        model = load_combiner(str(model_path or COMBINER_FILE))
        self.order = tuple(backends or model["backends"])
        missing = [b for b in self.order if b not in model["counts"]]
        if missing:
            raise ConfigError(f"backend(s) {missing} have no fitted counts in the combiner: refit with them")
        self.p_exit = float(p_exit if p_exit is not None else model["p_exit"])
        self.vote = NaiveBayesVote(model["counts"], alpha=model["alpha"], other_mass=model["other_mass"])
        self.prior_weight = prior_weight
        self._backends: dict[str, LidBackend] = {}
        self._by_code = {}
        for lang in registry().values():
            self._by_code.setdefault(lang.iso639_3, lang)

    def backend(self, name: str) -> LidBackend:
        if name not in self._backends:
            self._backends[name] = get_backend(name)
        return self._backends[name]

    def _log_prior(self, hints: list[str] | None) -> dict[str, float] | None:
        if not hints or self.prior_weight == 1.0:
            return None
        codes = {h.split("_")[0] for h in hints}   # a hint names a language (`deu`), not a script
        return {y: math.log(self.prior_weight) for y in self.vote.targets if y.split("_")[0] in codes}

    # Fast exit: the first backend alone decides when it is at least this sure, its language is outside the
    # confusable groups and the vote agrees with it. 0-1; measured on the dev sets (language_ids/EVAL.md).
    fast_exit = 0.95

    def decide(self, raw: dict[str, list[tuple[str, float]]], script: str,
               hints: list[str] | None = None) -> tuple[list[tuple[str, float]], str | None, bool]:
        """Posterior from the outputs seen so far; (posterior, best non-target class, confident enough to stop)."""
        post, best_other = self.vote.posterior(features(raw, script), self._log_prior(hints))
        return post, best_other, post[0][1] >= self.p_exit or self._fast_exit(raw, post)

    def _fast_exit(self, raw: dict[str, list[tuple[str, float]]], post: list[tuple[str, float]]) -> bool:
        if len(raw) != 1 or not raw[self.order[0]]:
            return False
        label, score = raw[self.order[0]][0]
        code = label.split("_")[0]
        if score < self.fast_exit or code in CONFUSABLE:
            return False
        voted = post[0][0]
        return voted.split("_")[0] == code if voted != OTHER else code not in self._by_code

    def identify(self, text: str, hints: list[str] | None = None, script: str | None = None) -> LidResult:
        """hints: ISO 639-3 codes from `<html lang>` / ccTLD (used only when prior_weight != 1)."""
        line = clean(text)
        script = script or script_of(line)
        raw: dict[str, list[tuple[str, float]]] = {}
        post: list[tuple[str, float]] = []
        best_other = None
        for name in self.order:
            raw[name] = self.backend(name).predict(line, k=3, script=script)
            post, best_other, done = self.decide(raw, script, hints)
            if done:
                break
        return self.result(post, raw, script, best_other)

    @staticmethod
    def other_label(best_other: str | None, script: str) -> str:
        """Fitted non-target classes are dev-file codes (`x-ja`) or language-script pairs (`bos_Cyrl`)."""
        if not best_other:
            return OTHER
        if best_other.startswith("x-"):
            code = best_other[2:]
            return f"{iso639_1_to_3().get(code, code)}_{script}"
        return best_other

    def result(self, post, raw, script, best_other: str | None = None) -> LidResult:
        top = []
        for code, p in post[:3]:
            if code == OTHER:
                # the most likely non-target language, named with a real label for the evidence (`jpn_Jpan`)
                top.append((self.other_label(best_other, script), round(p, 4)))
            else:
                top.append((code, round(p, 4)))
        label, p = post[0]
        return LidResult(label=label, score=round(p, 4), top=top, backends_run=list(raw), raw=raw)
