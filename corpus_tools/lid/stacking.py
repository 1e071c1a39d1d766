"""Fitting the combined identifier's stacker: multinomial logistic regression with an L2 penalty.

    W = fit_softmax(X, y, n_classes, l2=1e-5)      # X: rows x features, y: class index per row
    posterior = softmax(X @ W)

Fitting only (run by `python -m corpus_tools.lid.report --fit`, not at identification time): minimises the
mean cross-entropy plus `l2 * ||W||^2` with scipy's L-BFGS, from zero weights, so a fit is deterministic.
"""

from __future__ import annotations

import numpy as np

from corpus_tools.lid.combine import softmax


def fit_softmax(X: np.ndarray, y: np.ndarray, n_classes: int, l2: float, max_iter: int = 1000) -> np.ndarray:
    from scipy.optimize import minimize

    n, p = X.shape
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), y] = 1.0

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W = theta.reshape(p, n_classes)
        Z = X @ W
        Z -= Z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z).sum(axis=1))
        loss = -((Z * onehot).sum(axis=1) - lse).mean() + l2 * float((W ** 2).sum())
        grad = X.T @ (softmax(Z) - onehot) / n + 2 * l2 * W
        return loss, grad.ravel()

    res = minimize(loss_grad, np.zeros(p * n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter})
    return res.x.reshape(p, n_classes)
