"""Fitting the combined identifier's per-language trust model (`corpus_tools.lid.trust`) and its
Serbo-Croatian discriminator (`corpus_tools.lid.bcms`).

    W = fit_trust(x, y, n_feat, n_classes, n_markers, l2=1e-4, l2_dev=1e-3)   # x: trust.Inputs, y: class per row
    posterior = TrustModel(W).posterior(x)

Fitting only (run by `python -m tools.lid_report --fit`, not at identification time): minimises the
mean cross-entropy plus L2 penalties with scipy's L-BFGS, from zero weights, so a fit is deterministic.
"""

from __future__ import annotations

import numpy as np

from corpus_tools.lid.trust import softmax


def fit_trust(x, y: np.ndarray, n_feat: int, n_classes: int, n_markers: int, l2: float, l2_dev: float,
              max_iter: int = 500) -> dict[str, np.ndarray]:
    """The per-language trust model (`corpus_tools.lid.trust`): mean cross-entropy plus `l2` on the shared
    blocks and `l2_dev` on the per-language deviations and marker weights, L-BFGS from zero (deterministic)."""
    from scipy.optimize import minimize

    from corpus_tools.lid.trust import BLOCKS, gradients, logits, shapes

    shp = shapes(n_feat, n_classes, n_markers)
    sizes = [int(np.prod(shp[b])) for b in BLOCKS]
    penalty = {b: (l2_dev if b in ("dev", "markers") else l2) for b in BLOCKS}
    onehot = np.zeros((x.n, n_classes))
    onehot[np.arange(x.n), y] = 1.0
    other = n_classes - 1

    def unpack(theta):
        out, pos = {}, 0
        for b, size in zip(BLOCKS, sizes):
            out[b] = theta[pos:pos + size].reshape(shp[b])
            pos += size
        return out

    def loss_grad(theta):
        w = unpack(theta)
        z = logits(w, x, other)
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        loss = -((z * onehot).sum(axis=1) - lse).mean() + sum(penalty[b] * float((w[b] ** 2).sum()) for b in BLOCKS)
        G = (softmax(z) - onehot) / x.n
        d = gradients(w, x, G, other)
        return loss, np.concatenate([(d[b] + 2 * penalty[b] * w[b]).ravel() for b in BLOCKS])

    res = minimize(loss_grad, np.zeros(sum(sizes)), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return unpack(res.x)


def fit_bcms(texts: list[str], codes: list[str], order: tuple[str, ...], alpha: float = 0.5
             ) -> dict[str, np.ndarray]:
    """Naive Bayes over the n-grams of texts with their gold codes (each in `order`): n-gram -> centred
    log-probability per code of `order`, for the n-grams seen at least MIN_COUNT times; additive smoothing."""
    from corpus_tools.lid.bcms import MIN_COUNT, ngrams

    counts: dict[str, np.ndarray] = {}
    for text, code in zip(texts, codes):
        k = order.index(code)
        for g, c in ngrams(text).items():
            counts.setdefault(g, np.zeros(len(order)))[k] += c
    kept = {g: v for g, v in counts.items() if v.sum() >= MIN_COUNT}
    if not kept:
        return {}
    mat = np.array(list(kept.values()))
    logp = np.log(mat + alpha) - np.log(mat.sum(axis=0) + alpha * len(kept))
    logp -= logp.mean(axis=1, keepdims=True)
    return dict(zip(kept, logp))
