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
    """Intra and inter pairs as (distance, weight, first index, second index) float64/int64 arrays.

    "plain": each unordered pair once (the distance is symmetric), an inter pair of classes {a, b}
    with weight 2/(K(K-1) n_a n_b). "margin": intra pairs of class c once, with A_c; inter pairs once
    per order, (a sample of a, a sample of b) with A_a and weight 1/(K(K-1) n_a n_b).
    """
    classes, y_idx, sizes = torch.unique(y, return_inverse=True, return_counts=True)
    K = classes.numel()
    n = sizes.double()[y_idx]                                       # (N,) the size of each sample's class
    N = Z.shape[0]
    if reading == "plain":
        i, j = torch.triu_indices(N, N, 1)
        d = pair_distances(Z, Z)[i, j]
        same = y_idx[i] == y_idx[j]
        w_intra = 2.0 / (K * n[i] * (n[i] - 1))
        w_inter = 2.0 / (K * (K - 1) * n[i] * n[j])
        parts = [(d[same], w_intra[same], i[same], j[same]), (d[~same], w_inter[~same], i[~same], j[~same])]
    else:
        intra, inter = [], []
        cols = torch.arange(N)
        for c in range(K):
            rows = torch.nonzero(y_idx == c)[:, 0]
            V = margin_vectors(Z, int(classes[c]))
            D = pair_distances(V[rows], V)                         # (n_c, N)
            ii = rows[:, None].expand_as(D)
            jj = cols[None, :].expand_as(D)
            up = (y_idx[jj] == c) & (jj > ii)
            other = y_idx[jj] != c
            intra.append((D[up], 2.0 / (K * n[ii[up]] * (n[ii[up]] - 1)), ii[up], jj[up]))
            inter.append((D[other], 1.0 / (K * (K - 1) * n[ii[other]] * n[jj[other]]), ii[other], jj[other]))
        parts = [tuple(torch.cat([p[k] for p in pool]) for k in range(4)) for pool in (intra, inter)]
    out = [[p[0].double().cpu().numpy(), p[1].double().cpu().numpy(), p[2].cpu().numpy(), p[3].cpu().numpy()]
           for p in parts]
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

    Cost: all pairs in memory (N = 500: about 125 000 pairs, 225 000 for the margin reading), two sorts.

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
    order_p, order_q = np.argsort(d_p), np.argsort(d_q)                    # ties need no order: see the sides
    dp_s, dq_s = d_p[order_p], d_q[order_q]
    cum_p = np.concatenate([[0.0], np.cumsum(w_p[order_p])])
    cum_q = np.concatenate([[0.0], np.cumsum(w_q[order_q])])
    b_q, a_p = np.empty_like(d_q), np.empty_like(d_p)
    b_q[order_q] = cum_p[np.searchsorted(dp_s, dq_s, side="left")]         # intra weight strictly below d_q
    a_p[order_p] = cum_q[-1] - cum_q[np.searchsorted(dq_s, dp_s, side="right")]   # inter weight strictly above d_p
    P = float(np.dot(w_q, b_q))
    N = X.shape[0]
    psi = (np.bincount(i_p, w_p * (a_p - P), N) + np.bincount(j_p, w_p * (a_p - P), N)
           + np.bincount(i_q, w_q * (b_q - P), N) + np.bincount(j_q, w_q * (b_q - P), N))
    P = min(1.0, max(0.0, P))
    return SeparationWithError(P, math.sqrt(float(np.sum(psi * psi))))
