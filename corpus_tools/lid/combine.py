"""`CombinedLid`: the combined language identifier, a calibrated cascade over the LID backends.

Cascade: lid176 runs first, on the whole text (its first WHOLE_CHARS characters); py3langid runs only while the
stage's best posterior is below that stage's `p_exit`, and lingua only while the lid176 + py3langid posterior
still is; both read a fixed sample of the text (`sample_text`: up to 300 characters, three windows of a longer
text). After each stage a per-language trust model (`corpus_tools.lid.trust`, weights in
`language_ids/lid_combiner.json`, fitted by `python -m tools.lid_report --fit`) turns what the backends
run so far say about each registry label (language + script: `srp_Cyrl`, `srp_Latn`) and `other` into a
posterior; for Serbo-Croatian it also reads word markers (`corpus_tools.lid.markers`), and inside that group the
training mix is replaced by realistic shares (language_ids/lid_priors.tsv). When the cascade ends with the
Serbo-Croatian group ahead, a character n-gram discriminator (`corpus_tools.lid.bcms`) redistributes the
group's posterior among its standards.

The decision (`decide`) never lets the model overrule its backends into `other`: a text is `other` when lid.176
is sure (>= CONFIDENT) of a non-target language and no backend is sure of a target, or when py3langid names a
non-target language and lid.176 is not sure of a target, or is sure of one lid.176 cannot name (`sure_non_target`);
a target some backend is sure of (lingua: when another backend ranks it too) or that every backend run names is
kept when no backend is sure of a non-target. Otherwise the best label is kept when its confusable group holds
its threshold of the posterior (language_ids/lid_thresholds.tsv).
Figures, out of source: language_ids/EVAL.md. Use:

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

from corpus_tools.core.errors import ConfigError
from corpus_tools.core.languages import (LANGUAGE_IDS, OTHER, confusable_groups, macrolanguages, read_tsv, registry,
                                    target_codes)
from corpus_tools.lid.backends import LidBackend, LinguaBackend, get_backend, script_of
from corpus_tools.lid.bcms import BcmsDiscriminator
from corpus_tools.lid.markers import MARKER_FILE, bcms_markers, marker_classes
from corpus_tools.lid.trust import Encoder, TrustModel

COMBINER_FILE = LANGUAGE_IDS / "lid_combiner.json"
VERSION = "lid_combiner_v3"   # v3: lid176 reads the whole text, BCMS markers; fitted by source (issue 27)
# The sample every backend reads: texts up to SAMPLE_CHARS whole, longer ones as WINDOWS evenly spaced
# windows (start, middle, end) cut at spaces. fastText's and py3langid's cost is linear in the length.
SAMPLE_CHARS = 300
WINDOWS = 3
LONG = 200                     # a sample this long is "long": its own exit thresholds and model correction
BATCH_SIZE = 256               # texts identified together: one backend call per cascade stage
# Backends that read the whole text (as FineWeb's LID does), instead
# of the sample: lid.176 is cheap enough, and on a web page a 300-character sample of menus and names leaves
# every model unsure where the whole text does not (issue 27: English news sent to `other`).
WHOLE_TEXT = ("lid176",)
WHOLE_CHARS = 2000   # ... up to this many characters: ~300 words decide a page; its cost is linear in the length
# A backend "confidently names" a language when its top-1 score reaches this (fixed before measuring, issue 27).
CONFIDENT = 0.9


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

    def __init__(self, classes: list[str], min_scores: dict[str, float] | None = None):
        """min_scores: label -> threshold instead of language_ids/lid_thresholds.tsv (for choosing them)."""
        code_of = [c.split("_")[0] for c in classes]
        table = lid_thresholds() if min_scores is None else min_scores
        self.min_score = np.array([table.get(c, 0.0) if c != OTHER else 0.0 for c in classes])
        self.members = []
        for i, code in enumerate(code_of):
            group = {code}.union(*[g for g in confusable_groups().values() if code in g])
            self.members.append(np.array([j for j, c in enumerate(code_of) if c in group and classes[j] != OTHER]
                                         or [i]))

    def keeps(self, post: np.ndarray, best: int) -> bool:
        return bool(post[self.members[best]].sum() >= self.min_score[best])


def _targets_named(label: str) -> list[str]:
    """The target labels a backend's label names: itself, or for a macrolanguage (`hbs_Latn`) every target of
    its group in that script; [] for a non-target language."""
    if label in registry():
        return [label]
    code, _, script = label.partition("_")
    return [f"{c}_{script}" for c in macrolanguages().get(code, []) if f"{c}_{script}" in registry()]


# Backends whose top-1 score means the same on any text (lid.176's probabilities); py3langid's normalised
# scores reach 1.0 on two words, so they vouch for a target but never alone make a text `other`.
CALIBRATED = ("lid176",)
# The backend whose non-target answer makes a text `other` when lid.176 is not sure of a target.
OPEN_SET = "py3langid"
# Backends built over the target languages only: a high score says which target a text is most like, not that
# it is one. So they have no say on `other`, and vouch for a target only when another backend ranks it too.
CLOSED_SET = ("lingua",)


def sure_non_target(raw: dict[str, list[tuple[str, float]]]) -> bool:
    """`other` whatever the model says, the mirror of `confident_targets` (the model saw few non-target
    sources; out of source it learns `other` from almost none, issue 27): either a calibrated backend names
    a specific non-target language with score >= CONFIDENT and no backend names a target that surely; or
    py3langid's top-1 is a non-target language and lid.176 does not name a target with score >= CONFIDENT
    (the two backends that know non-target languages: one names one, the other is not sure of a target); or
    py3langid is that sure of a non-target language lid.176 cannot name (Faroese, where lid.176 is sure of
    Icelandic: its sureness says nothing about a language it does not know)."""
    calibrated = [out for name, out in raw.items() if name in CALIBRATED]
    if any(_sure_of(out, target=False) for out in calibrated) and not any(_sure_of(out, target=True) for out in raw.values()):
        return True
    open_set = raw.get(OPEN_SET)
    if not open_set or _targets_named(open_set[0][0]):
        return False
    if open_set[0][1] >= CONFIDENT and open_set[0][0].split("_")[0] not in _lid176_codes():
        return True    # sure of a language lid.176 cannot name (Faroese): lid.176's sure neighbour says nothing
    return not any(_sure_of(out, target=True) for out in calibrated)


@lru_cache(maxsize=1)
def _lid176_codes() -> frozenset[str]:
    from corpus_tools.lid.backends import Lid176Backend

    return Lid176Backend().codes()


def _ranked_by_open_set(label: str, raw: dict[str, list[tuple[str, float]]]) -> bool:
    """Whether a backend that knows non-target languages has `label` in its top 3."""
    return any(lab == label for name, out in raw.items() if name not in CLOSED_SET for lab, _ in out)


def _sure_of(out: list[tuple[str, float]], target: bool) -> bool:
    """The backend's top-1 reaches CONFIDENT and is (target=True) or is not (False) a target label."""
    return bool(out) and out[0][1] >= CONFIDENT and bool(_targets_named(out[0][0])) == target


def confident_targets(raw: dict[str, list[tuple[str, float]]]) -> list[str] | None:
    """Target labels the backends vouch for, when no backend names a non-target language as surely; None
    otherwise. A backend vouches for its top-1 label when its score reaches CONFIDENT; when two or more
    backends ran and every one's top-1 is the same target, that target is vouched for too (three models built
    differently agree). lingua (CLOSED_SET) vouches only for a target lid.176 or py3langid has in its top 3.
    The stacker may not overrule either into `other`: it was fitted on few non-target sources and must not
    invent a non-target language no backend names (issue 27)."""
    named: list[str] = []
    for name, out in raw.items():
        if not out or out[0][1] < CONFIDENT:
            continue
        if name in CLOSED_SET and not _ranked_by_open_set(out[0][0], raw):
            continue                                # lingua's answer, which no backend that knows non-targets ranks
        targets = _targets_named(out[0][0])
        if not targets:
            return None                             # a backend is sure of a non-target language
        named.extend(targets)
    tops = {out[0][0] for out in raw.values() if out}
    if not named and len(raw) >= 2 and len(tops) == 1 and all(len(o) for o in raw.values()):
        named = [t for t in tops if t in registry()]
    return named or None


MAX_PRIOR_BOOST = 4.0   # the most a group prior may raise a label the training rows under-represent


@lru_cache(maxsize=1)
def lid_priors() -> dict[str, float]:
    """label -> relative share inside its confusable group (language_ids/lid_priors.tsv)."""
    rows = {r["label"]: float(r["relative_share"]) for r in read_tsv(LANGUAGE_IDS / "lid_priors.tsv")}
    unknown = set(rows) - set(registry())
    if unknown or any(v <= 0 for v in rows.values()):
        raise ConfigError(f"lid_priors.tsv: labels outside the registry {sorted(unknown)} or a share <= 0")
    return rows


def group_prior(classes: list[str], train_share: np.ndarray) -> np.ndarray:
    """Log-adjustment per class that moves the training mix toward lid_priors.tsv inside the group of the
    labels it names: a member the training rows over-represent (relative to the file) is made that much less
    likely; one they under-represent is made at most MAX_PRIOR_BOOST times likelier (a label the fit hardly
    saw, e.g. Montenegrin with no source but the UDHR, must not become likely by a prior alone)."""
    adjust = np.zeros(len(classes))
    priors = lid_priors()
    members = [i for i, c in enumerate(classes) if c in priors]
    if not members:
        return adjust
    share = np.maximum(train_share[members], 1e-9)
    want = np.array([priors[classes[i]] for i in members])
    adjust[members] = np.minimum(np.log(want / want.sum()) - np.log(share / share.sum()), np.log(MAX_PRIOR_BOOST))
    return adjust


def marker_features(text: str, script: str, first: list[tuple[str, float]]) -> np.ndarray | None:
    """The BCMS word markers of the text's first WHOLE_CHARS characters, counted only where they can matter:
    a Latin or Cyrillic text for which the first backend's top 3 names a Serbo-Croatian language (else None,
    which costs nothing on the other 40 languages)."""
    if script not in ("Latn", "Cyrl") or not any(lab.split("_")[0] in _bcms_codes() for lab, _ in first):
        return None
    return bcms_markers(text[:WHOLE_CHARS])


@lru_cache(maxsize=1)
def _bcms_codes() -> set[str]:
    """Serbo-Croatian (`hbs`) and the target codes it covers: the languages the word markers separate."""
    return {"hbs", *macrolanguages().get("hbs", [])}


@dataclass
class LidResult:
    label: str                                   # registry label, or `other`
    score: float                                 # posterior of the best class, 0-1
    top: list[tuple[str, float]]                 # top 3 (label, posterior); `other` named by the backends
    below_threshold: bool = False                # the best class is a target its group holds too weakly
    backends_run: list[str] = field(default_factory=list)
    raw: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    rescued: bool = False                        # a backend's confident target overruled `other`


@lru_cache(maxsize=2)
def load_combiner(path: str = str(COMBINER_FILE)) -> dict:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"missing {p}: run `make lid-eval` (python -m tools.lid_report --fit)")
    model = json.loads(p.read_text(encoding="utf-8"))
    if model.get("version") != VERSION:
        raise ConfigError(f"{p} is {model.get('version')!r}, this code reads {VERSION}: refit it with `make lid-eval`")
    if model["classes"][:-1] != list(registry()) or model["codes"] != target_codes():
        raise ConfigError(f"{p} was fitted for another language registry: refit it with `make lid-eval`")
    if model.get("marker_classes") != list(marker_classes()[0]):
        raise ConfigError(f"{p} was fitted for other Serbo-Croatian marker classes than {MARKER_FILE}: refit it with "
                          "`make lid-eval`")
    return model


class CombinedLid:
    """The combined identifier.

    p_exit: stop the cascade once the best posterior reaches this, 0-1, at every stage and length;
      default per stage and length from lid_combiner.json (chosen on the cross-fitted dev predictions
      and 1 kB documents: see language_ids/EVAL.md).
    backends: cascade order, cheapest first; default lid176, py3langid, lingua (the stages fitted).
    prior_weight: how many times likelier a language becomes when `<html lang>` / ccTLD name it, default 1
      (off). A weak prior: 3 moves only close calls (measured in language_ids/EVAL.md).
    lingua_short_texts: lingua also reads texts of under `LinguaBackend.FULL_MODELS_BELOW` (120) letters,
      default True (the identifier EVAL.md measures). False: such a text ends the cascade after py3langid, and
      lingua never loads the 1- to 5-gram models only those texts use (+700 MB, 4-8 CPU s); the pipeline's
      choice, where a page that short falls below every language's 50-word minimum anyway.
    """

    def __init__(self, p_exit: float | None = None, backends: tuple[str, ...] | None = None,
                 model_path: str | None = None, prior_weight: float = 1.0, lingua_short_texts: bool = True):
        model = load_combiner(str(model_path or COMBINER_FILE))
        self.order = tuple(backends or model["backends"])
        if self.order != tuple(model["backends"][:len(self.order)]):
            raise ConfigError(f"the combiner is fitted for the cascade {model['backends']}, not {list(self.order)}")
        stages = ["+".join(self.order[:i + 1]) for i in range(len(self.order))]
        # (short, long) exit threshold per stage; the last stage always decides
        self.p_exit = [(p_exit, p_exit) if p_exit is not None else
                       (model["p_exit"][s]["short"], model["p_exit"][s]["long"]) for s in stages[:-1]] + [(0.0, 0.0)]
        self.classes = list(model["classes"])
        self.encoder = Encoder(tuple(model["backends"]), self.classes, len(marker_classes()[0]))
        adjust = group_prior(self.classes, np.asarray(model["train_share"]))
        self.models = [TrustModel(model["weights"][s], adjust) for s in stages]
        self.prior_weight = prior_weight
        self.lingua_short_texts = lingua_short_texts
        self.abstain = Abstain(self.classes)
        self.bcms = BcmsDiscriminator.default()
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
        whole = [t[:WHOLE_CHARS] for t in texts]
        markers: list[np.ndarray | None] = [None] * len(texts)
        lengths = [len(s) for s in samples]
        long = np.array(lengths) >= LONG
        priors = [self._log_prior(h) for h in hints]
        no_prior = np.zeros(len(self.classes))
        raws: list[dict[str, list[tuple[str, float]]]] = [{} for _ in texts]
        post = np.zeros((len(texts), len(self.classes)))
        todo = np.arange(len(texts))
        for stage, name in enumerate(self.order):
            inputs = whole if name in WHOLE_TEXT else samples
            if name == "lingua" and not self.lingua_short_texts:
                todo = todo[np.array([not LinguaBackend.needs_full_models(samples[i]) for i in todo], dtype=bool)]
                if not len(todo):
                    break
            outs = self.backend(name).predict_batch([inputs[i] for i in todo], k=3, scripts=[scripts[i] for i in todo])
            for i, out in zip(todo, outs):
                raws[i][name] = out
                if stage == 0:
                    markers[i] = marker_features(texts[i], scripts[i], out)
            x = self.encoder.encode([raws[i] for i in todo], [scripts[i] for i in todo], list(long[todo]),
                                    [markers[i] for i in todo])
            prior = None
            if any(priors[i] is not None for i in todo):
                prior = np.array([priors[i] if priors[i] is not None else no_prior for i in todo])
            p = self.models[stage].posterior(x, prior)
            post[todo] = p
            short_exit, long_exit = self.p_exit[stage]
            todo = todo[p.max(axis=1) < np.where(long[todo], long_exit, short_exit)]
            if not len(todo):
                break
        for i in range(len(texts)):
            post[i] = self.bcms.refine(post[i], self.classes, texts[i], scripts[i])
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
        best = decide(post, raw, self.classes, self.abstain)
        if best is None:
            # below threshold: the model's best class is a target its group holds too weakly; not when a
            # backend is sure of a non-target language (`sure_non_target`), whatever the model ranks first
            below = self.classes[order[0]] != OTHER and not sure_non_target(raw)
            return LidResult(label=OTHER, score=round(float(post[order[0]]), 4), top=top, below_threshold=below,
                             backends_run=list(raw), raw=raw)
        return LidResult(label=self.classes[best], score=round(float(post[best]), 4), top=top,
                         backends_run=list(raw), raw=raw, rescued=best != order[0])


def decide(post: np.ndarray, raw: dict[str, list[tuple[str, float]]], classes: list[str],
           abstain: Abstain) -> int | None:
    """The class index kept for one text, None for `other`: `other` when a calibrated backend is sure of a
    non-target language and no backend is sure of a target (`sure_non_target`); the model's best class when
    it is a target its confusable group holds; else, when backends vouch for targets and none is sure of a
    non-target (`confident_targets`), the vouched-for target the model ranks highest."""
    if sure_non_target(raw):
        return None
    best = int(np.argmax(post))
    if classes[best] != OTHER and abstain.keeps(post, best):
        return best
    named = confident_targets(raw)
    if not named:
        return None
    index = {c: i for i, c in enumerate(classes)}
    return max((index[lab] for lab in named), key=lambda i: post[i])
