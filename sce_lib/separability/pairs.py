r"""P(inter > intra) with its standard error, and under the margin-matrix reading of M.

The exact estimator :func:`~sce_lib.separability.estimator.separation_probability` counts every
(intra pair, inter pair) comparison; this module adds what a chapter needs to *report* such a
number from a subset of samples:

* :func:`separation_with_stderr`: the same probability (computed here by weighted counting over
  the pairs, float64) together with its **first-order U-statistic standard error**: the
  probability is a weighted U-statistic of the samples, and its variance over draws of the samples
  is estimated by the sum of squared per-sample influences (the Hoeffding projection, also known
  as the infinitesimal jackknife);
* ``reading="margin"``: the class-specific margin-matrix reading of the "network dependent
  matrix", ``A_y`` with rows ``(w_y - w_k)^T`` (k ≠ y), under which the squared distance of two
  samples seen from class y is :math:`\sum_{k\ne y}\bigl((z_{iy}-z_{ik})-(z_{jy}-z_{jk})\bigr)^2`.
  An intra pair of class y is measured with ``A_y``; an inter pair (a sample of class a, a sample
  of class b) with ``A_a``, the two orders of the pair being equally likely.

Both use the class-balanced weighting of the estimator (a class uniformly, then two distinct
samples of it; an ordered pair of distinct classes uniformly, then one sample of each); ties count
as failures. Part of the book's reconstruction (paper-digest §5.2), not the paper's.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch

from .._validate.scalars import check_option
from .._validate.separability import check_features_labels
from .estimator import pair_distances

__all__ = ["SeparationWithError", "separation_with_stderr", "margin_vectors"]

_READINGS = ("plain", "margin")


class SeparationWithError(NamedTuple):
    """An exact separation probability over the pairs of a sample, and its U-statistic standard error."""

    probability: float
    stderr: float


def margin_vectors(logits: torch.Tensor, c: int) -> torch.Tensor:
    r"""The margin-matrix image of logits seen from class c: rows :math:`(z_c - z_k)_{k \ne c}`.

    ``A_c h = (z_c - z_k - (b_c - b_k))_{k≠c}``; the bias term is the same for every sample, so it
    cancels in every distance and is left out.

    Args:
        logits: (N, K) logits z = W h + b.
        c: the class whose margin matrix is applied, an int in [0, K-1].

    Returns:
        (N, K-1) tensor, the dtype of ``logits``.

    Example:
        >>> margin_vectors(torch.tensor([[3.0, 1.0, 0.0]]), 0)
        tensor([[2., 3.]])

    Derived in: book/06-separability.md, §Three readings of M.
    """
    K = logits.shape[1]
    keep = [k for k in range(K) if k != c]
    return logits[:, c:c + 1] - logits[:, keep]


def _pools(Z: torch.Tensor, y: torch.Tensor, reading: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Intra and inter pairs as (distance, weight, first index, second index) float64/int64 arrays."""
    classes = torch.unique(y).tolist()
    K = len(classes)
    members = {c: torch.nonzero(y == c)[:, 0] for c in classes}
    intra, inter = [[], [], [], []], [[], [], [], []]

    def image(rows: torch.Tensor, c: int) -> torch.Tensor:
        return Z[rows] if reading == "plain" else margin_vectors(Z[rows], c)

    for c in classes:
        idx = members[c]
        n = idx.numel()
        V = image(idx, c)
        i, j = torch.triu_indices(n, n, 1)
        d = pair_distances(V, V)[i, j]
        for store, val in zip(intra, (d, torch.full_like(d, 1.0 / (K * n * (n - 1) / 2)), idx[i], idx[j])):
            store.append(val)
        for b in classes:
            if b == c:
                continue
            jdx = members[b]
            d = pair_distances(V, image(jdx, c)).reshape(-1)
            w = torch.full_like(d, 1.0 / (K * (K - 1) * n * jdx.numel()))
            ii = idx[:, None].expand(n, jdx.numel()).reshape(-1)
            jj = jdx[None, :].expand(n, jdx.numel()).reshape(-1)
            for store, val in zip(inter, (d, w, ii, jj)):
                store.append(val)
    out = [[torch.cat(s).double().cpu().numpy() if k < 2 else torch.cat(s).cpu().numpy() for k, s in enumerate(pool)]
           for pool in (intra, inter)]
    return out[0], out[1]


def separation_with_stderr(features: Any, labels: Any, *, reading: str = "plain") -> SeparationWithError:
    r"""Exact P(inter > intra) of a sample of points, with its first-order U-statistic standard error.

    .. math:: \hat P = \sum_p\sum_q w_p w_q \mathbf 1\{d_q > d_p\},\qquad
              \widehat{\mathrm{se}}^2 = \sum_n \psi_n^2,\quad
              \psi_n = \sum_{p \ni n} w_p (a_p - \hat P) + \sum_{q \ni n} w_q (b_q - \hat P),

    over intra pairs p and inter pairs q with the class-balanced weights w (see the module
    docstring), where :math:`a_p = \sum_q w_q \mathbf 1\{d_q > d_p\}` and
    :math:`b_q = \sum_p w_p \mathbf 1\{d_q > d_p\}`. ψ_n is the first-order (Hoeffding) influence of
    sample n; the sum of their squares estimates the variance of :math:`\hat P` over random draws
    of the sample (the infinitesimal jackknife; exact to first order in 1/N). With
    ``reading="plain"`` the distances are the Euclidean distances of the rows of ``features``, so
    :math:`\hat P` equals ``separation_probability(features, labels)`` up to the rounding of the
    weights (float64 here, exact rationals there); with ``reading="margin"`` ``features`` are
    logits (N, K) and the distances are those of the margin matrices A_y.

    Cost: all pairs in memory (N = 500: about 250 000 inter distances), two sorts.

    Args:
        features: (N, d) finite features (``reading="plain"``) or (N, K) logits (``"margin"``).
        labels: (N,) integer labels; at least two classes, each with at least two samples. For
            ``"margin"``, labels in [0, K-1].
        reading: ``"plain"`` or ``"margin"``.

    Returns:
        :class:`SeparationWithError` (probability, stderr).

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [5.0], [5.5]]); y = torch.tensor([0, 0, 1, 1])
        >>> separation_with_stderr(x, y)
        SeparationWithError(probability=1.0, stderr=0.0)

    Derived in: book/06-separability.md, §Measuring the separation probability.
    """
    reading = check_option(reading, "reading", _READINGS)
    X, y, _ = check_features_labels(features, labels)
    if reading == "margin" and (int(y.min()) < 0 or int(y.max()) > X.shape[1] - 1):
        raise ValueError(f"labels: expected class indices in [0, {X.shape[1] - 1}] (the columns of the logits), "
                         f"got min {int(y.min())} and max {int(y.max())}")
    X = X.to(torch.float64)
    (d_p, w_p, i_p, j_p), (d_q, w_q, i_q, j_q) = _pools(X, y, reading)
    order_p = np.argsort(d_p, kind="stable")
    cum_p = np.concatenate([[0.0], np.cumsum(w_p[order_p])])
    b_q = cum_p[np.searchsorted(d_p[order_p], d_q, side="left")]          # intra weight strictly below d_q
    order_q = np.argsort(d_q, kind="stable")
    cum_q = np.concatenate([[0.0], np.cumsum(w_q[order_q])])
    a_p = cum_q[-1] - cum_q[np.searchsorted(d_q[order_q], d_p, side="right")]   # inter weight strictly above d_p
    P = float(np.dot(w_q, b_q))
    N = X.shape[0]
    psi = (np.bincount(i_p, w_p * (a_p - P), N) + np.bincount(j_p, w_p * (a_p - P), N)
           + np.bincount(i_q, w_q * (b_q - P), N) + np.bincount(j_q, w_q * (b_q - P), N))
    P = min(1.0, max(0.0, P))
    return SeparationWithError(P, math.sqrt(float(np.sum(psi * psi))))
