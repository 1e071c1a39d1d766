"""The combined identifier's model: how far to trust each backend, per language (a conditional logit).

    enc = Encoder(("lid176", "py3langid", "lingua"), classes)
    x = enc.encode(raws, scripts, long, markers)      # the backends' top-3 answers of a batch of texts
    post = TrustModel(weights).posterior(x)           # rows x classes

A class's logit is built only from what the backends say about *that* class: per backend its score for the
class, whether the class is its top-1, the score of a macrolanguage answer covering the class (lid.176's
`hbs` for the Serbo-Croatian standards), and whether the class's script is the text's. Those features are
weighted by shared weights (the same for every language, plus a correction on long texts) and by a small,
more strongly penalised per-language deviation ("lingua is worth more on Croatian, lid.176 less on
Bosnian"); then a per-language bias, per-language weights of the Serbo-Croatian word markers, and for
`other` the backends' mass on non-target labels. There are no cross-language weights ("lid.176 says ces,
so it is slk"): a model with ~900 parameters instead of ~20,000 cannot learn one source's habits, which is
what made the earlier full stacker worse than its own backends on sources it was not fitted on (issue 27).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus_tools.core.languages import OTHER, macrolanguages

PER_BACKEND = 3        # score of the class, class is the top-1, macrolanguage score covering the class


@dataclass
class Inputs:
    """A batch, encoded: sparse per-class features (COO: row, class, feature, value), the script match
    (rows x classes, 0/1), the long-text indicator, the marker features and the `other` features."""
    rows: np.ndarray
    cls: np.ndarray
    feat: np.ndarray
    val: np.ndarray
    script: np.ndarray
    long: np.ndarray
    markers: np.ndarray
    other: np.ndarray

    @property
    def n(self) -> int:
        return len(self.long)

    def stage(self, n_backends: int) -> "Inputs":
        """The same texts as if only the first n_backends backends had run."""
        keep = self.feat < n_backends * PER_BACKEND
        other = self.other.copy()
        other[:, n_backends * PER_BACKEND:] = 0
        return Inputs(self.rows[keep], self.cls[keep], self.feat[keep], self.val[keep], self.script, self.long,
                      self.markers, other)

    def take(self, idx: np.ndarray) -> "Inputs":
        """The rows idx (in that order)."""
        pos = np.full(self.n, -1)
        pos[idx] = np.arange(len(idx))
        keep = pos[self.rows] >= 0
        return Inputs(pos[self.rows[keep]], self.cls[keep], self.feat[keep], self.val[keep], self.script[idx],
                      self.long[idx], self.markers[idx], self.other[idx])

    @staticmethod
    def concat(parts: list["Inputs"]) -> "Inputs":
        offsets = np.cumsum([0] + [p.n for p in parts[:-1]])
        return Inputs(np.concatenate([p.rows + o for p, o in zip(parts, offsets)]),
                      *(np.concatenate([getattr(p, f) for p in parts]) for f in ("cls", "feat", "val")),
                      *(np.concatenate([getattr(p, f) for p in parts]) for f in ("script", "long", "markers", "other")))


class Encoder:
    def __init__(self, backends: tuple[str, ...], classes: list[str], n_markers: int):
        self.backends = backends
        self.classes = classes
        self.index = {c: i for i, c in enumerate(classes)}
        self.n_feat = PER_BACKEND * len(backends)
        self.n_markers = n_markers
        scripts = sorted({c.split("_")[1] for c in classes if c != OTHER})
        self.script_rows = {s: np.array([c != OTHER and c.split("_")[1] == s for c in classes], dtype=np.float64)
                            for s in scripts}
        self.macro = {}
        for code, members in macrolanguages().items():
            for s in scripts:
                self.macro[f"{code}_{s}"] = [self.index[f"{m}_{s}"] for m in members if f"{m}_{s}" in self.index]

    def encode(self, raws: list[dict[str, list[tuple[str, float]]]], scripts: list[str], long: list[bool],
               markers: list[np.ndarray | None]) -> Inputs:
        rows, cls, feat, val = [], [], [], []
        n = len(raws)
        other = np.zeros((n, self.n_feat))
        for i, raw in enumerate(raws):
            for b, name in enumerate(self.backends):
                out = raw.get(name) or []
                base = b * PER_BACKEND
                for rank, (label, s) in enumerate(out):
                    j = self.index.get(label) if label != OTHER else None
                    if j is not None:
                        rows += [i, i] if rank == 0 else [i]
                        cls += [j, j] if rank == 0 else [j]
                        feat += [base, base + 1] if rank == 0 else [base]
                        val += [s, 1.0] if rank == 0 else [s]
                    elif label in self.macro:
                        for j in self.macro[label]:
                            rows.append(i), cls.append(j), feat.append(base + 2), val.append(s)
                    else:
                        other[i, base] += s                        # mass on non-target labels
                        if rank == 0:
                            other[i, base + 1] = 1.0               # its top-1 is a non-target language
                if out:
                    other[i, base + 2] = out[0][1]
        zero = np.zeros(len(self.classes))
        script = np.array([self.script_rows.get(s, zero) for s in scripts]) if n else np.zeros((0, len(self.classes)))
        mk = np.array([m if m is not None else np.zeros(self.n_markers) for m in markers]).reshape(n, self.n_markers)
        return Inputs(np.array(rows, dtype=np.int64), np.array(cls, dtype=np.int64), np.array(feat, dtype=np.int64),
                      np.array(val, dtype=np.float64), script, np.array(long, dtype=np.float64), mk, other)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


BLOCKS = ("shared", "long", "dev", "markers", "other", "bias")


def shapes(n_feat: int, n_classes: int, n_markers: int) -> dict[str, tuple[int, ...]]:
    """Parameter blocks; the last feature of `shared`/`long`/`dev` is the script match."""
    k = n_feat + 1
    return {"shared": (k,), "long": (k,), "dev": (n_classes, k), "markers": (n_markers, n_classes),
            "other": (n_feat,), "bias": (n_classes,)}


def logits(w: dict[str, np.ndarray], x: Inputs, other_index: int) -> np.ndarray:
    n, c = x.n, w["bias"].shape[0]
    k_script = w["shared"].shape[0] - 1
    coef = w["shared"][x.feat] + x.long[x.rows] * w["long"][x.feat] + w["dev"][x.cls, x.feat]
    z = np.bincount(x.rows * c + x.cls, weights=x.val * coef, minlength=n * c).astype(np.float64).reshape(n, c)
    z += x.script * (w["shared"][k_script] + x.long[:, None] * w["long"][k_script] + w["dev"][:, k_script][None, :])
    z += x.markers @ w["markers"] + w["bias"]
    z[:, other_index] += x.other @ w["other"]
    return z


def gradients(w: dict[str, np.ndarray], x: Inputs, G: np.ndarray, other_index: int) -> dict[str, np.ndarray]:
    """d(sum over rows of the loss)/d(block) given G = d loss / d logits (rows x classes)."""
    c = w["bias"].shape[0]
    k = w["shared"].shape[0]
    g = G[x.rows, x.cls] * x.val
    gs = G * x.script
    d = {"shared": np.bincount(x.feat, weights=g, minlength=k),
         "long": np.bincount(x.feat, weights=g * x.long[x.rows], minlength=k),
         "dev": np.bincount(x.cls * k + x.feat, weights=g, minlength=c * k).reshape(c, k)}
    d["shared"][k - 1] += gs.sum()
    d["long"][k - 1] += (gs.sum(axis=1) * x.long).sum()
    d["dev"][:, k - 1] += gs.sum(axis=0)
    d["markers"] = x.markers.T @ G
    d["other"] = x.other.T @ G[:, other_index]
    d["bias"] = G.sum(axis=0)
    return d


class TrustModel:
    """adjust: per-class log-prior correction added to the logits (combine.group_prior), or None."""

    def __init__(self, weights: dict[str, list], adjust: np.ndarray | None = None):
        self.w = {k: np.asarray(weights[k], dtype=np.float64) for k in BLOCKS}
        self.other_index = self.w["bias"].shape[0] - 1          # `other` is the last class
        self.adjust = adjust

    def posterior(self, x: Inputs, prior: np.ndarray | None = None) -> np.ndarray:
        """prior: rows x classes log-prior added to the logits (the `<html lang>` / ccTLD hints), or None."""
        z = logits(self.w, x, self.other_index)
        if self.adjust is not None:
            z = z + self.adjust
        if prior is not None:
            z = z + prior
        return softmax(z)
