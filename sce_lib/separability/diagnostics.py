"""How far a trained network is from the assumptions of the book's reconstruction, and what that costs.

* :func:`margin_law_ks`: O1, the per-sample losses against Exp(mean) (Kolmogorov-Smirnov distance);
* :func:`assumption_diagnostics`: O1, O2 and A1 from a network's logits, labels and last-layer
  weight, in one :class:`AssumptionDiagnostics`;
* :func:`plug_in_probability`: the model's separation probability with the *measured* per-sample
  losses in place of Exp(L), which removes the error due to O1 and keeps the one due to O2/A1.

The assumptions are those of the book's reconstruction (paper-digest §3.2), not the paper's.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import torch

from .._validate.separability import check_classes, check_diagnostics_inputs, check_positive_array
from .estimator import separation_probability

__all__ = ["margin_law_ks", "AssumptionDiagnostics", "assumption_diagnostics", "plug_in_probability"]

LOSS_FLOOR = 1e-300  # per-sample losses of exactly 0 are raised to this (margin log(K-1) + 690.8, not +inf)


def _ks_exponential(x: np.ndarray) -> float:
    """sup_x |F_n(x) - (1 - exp(-x / mean))| for a 1-D float64 sample with positive mean."""
    x = np.sort(x)
    n = x.size
    F = -np.expm1(-x / x.mean())
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))


def margin_law_ks(losses: Any) -> float:
    r"""O1 check: the Kolmogorov-Smirnov distance of per-sample losses from Exp(mean).

    .. math:: D_n = \sup_x \bigl|F_n(x) - (1 - e^{-x/\bar\ell})\bigr|,\qquad \bar\ell = \tfrac1n\sum_i \ell_i,

    computed exactly from the sorted sample (the supremum is attained at a sample point, from the
    left or the right). Under O1 of the book's reconstruction (losses i.i.d. Exp(L)), D_n is of
    order 1/sqrt(n); the mean is estimated from the same sample (Lilliefors' setting), so the
    classical KS p-values do not apply.

    Args:
        losses: (n,) per-sample losses, finite, >= 0, not all 0 (n >= 1).

    Returns:
        D_n, a float in [0, 1].

    Example:
        >>> round(margin_law_ks([0.5, 1.0, 1.5]), 4)   # attained at 0.5: F = 1 - e^-0.5 against 0
        0.3935

    Derived in: book/06-separability.md, §Diagnostics of the assumptions.
    """
    x = check_positive_array(losses, "losses", allow_zero=True).ravel()
    if x.size == 0 or not x.max() > 0:
        raise ValueError(f"losses: expected at least one value > 0 (the mean must be positive), got {x.size} values all 0")
    return _ks_exponential(x)


class AssumptionDiagnostics(NamedTuple):
    """The O1, O2 and A1 statistics of one network (see :func:`assumption_diagnostics`).

    Attributes:
        loss: L, the mean per-sample cross-entropy.
        ks: O1, Kolmogorov-Smirnov distance of the per-sample losses from Exp(L).
        std_over_mean: O1, std/mean of the per-sample losses (1 for an exponential law).
        spread_ratio: O2, the median over samples of sd(non-target logits) / |mean margin|.
        spread_ratio_of_means: O2, mean sd(non-target logits) / mean |mean margin|.
        ones_share: A1, ‖1ᵀW‖ / (√K ‖W‖_F) in [0, 1]; None when no weight was given.
    """

    loss: float
    ks: float
    std_over_mean: float
    spread_ratio: float
    spread_ratio_of_means: float
    ones_share: float | None


def assumption_diagnostics(logits: Any, labels: Any, weight: Any = None) -> AssumptionDiagnostics:
    r"""O1, O2 and A1 of the book's reconstruction, measured on a network's logits (and last-layer weight).

    For sample n with logits z (K,), target y and non-target logits u = (z_k)_{k≠y}:

    * **O1** (losses Exp(L)): the per-sample losses ℓ_n = -log softmax(z)_y; ``ks`` =
      :func:`margin_law_ks` of them, ``std_over_mean`` = std(ℓ)/mean(ℓ) (divisor N; 1 under O1);
    * **O2** (equal non-target logits): the mean margin Δ̄_n = z_y - mean(u) and the spread
      s_n = sd(u) (divisor K-1; 0 under O2). ``spread_ratio`` = median_n s_n / |Δ̄_n| (the median
      keeps the few samples with Δ̄_n ≈ 0 from dominating; a sample with Δ̄_n = 0 and s_n > 0
      counts as +inf, with s_n = 0 as 0), ``spread_ratio_of_means`` = mean(s)/mean(|Δ̄|). For
      K = 2 there is one non-target logit, so both are 0;
    * **A1** (zero-sum logits): ``ones_share`` = ‖1ᵀW‖₂ / (√K ‖W‖_F) = ‖(11ᵀ/K) W‖_F / ‖W‖_F,
      the share of W in the direction 1 that softmax cannot see (0 when the rows of W sum to zero,
      at most 1 by Cauchy-Schwarz).

    Computed in float64 on the logits' device.

    Args:
        logits: (N, K) finite logits, N >= 1, K >= 2.
        labels: (N,) class indices in [0, K-1].
        weight: optional (K, d) last-layer weight W.

    Returns:
        :class:`AssumptionDiagnostics`.

    Example:
        >>> z = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0]]); y = torch.tensor([0, 1])
        >>> diag = assumption_diagnostics(z, y, weight=torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]]))
        >>> diag.spread_ratio, diag.ones_share
        (0.0, 0.0)

    Derived in: book/06-separability.md, §Diagnostics of the assumptions.
    """
    z, y, W = check_diagnostics_inputs(logits, labels, weight)
    z = z.to(torch.float64)
    N, K = z.shape
    losses = -torch.log_softmax(z, dim=1).gather(1, y[:, None])[:, 0]
    ell = losses.cpu().numpy()
    L = float(ell.mean())
    ks = _ks_exponential(ell) if L > 0 else 1.0
    som = float(ell.std() / L) if L > 0 else 0.0
    target = z.gather(1, y[:, None])[:, 0]
    mask = torch.ones_like(z, dtype=torch.bool).scatter_(1, y[:, None], False)
    u = z[mask].reshape(N, K - 1)
    margin = (target - u.mean(dim=1)).abs()
    spread = u.std(dim=1, correction=0)
    ratio = torch.where(spread == 0, torch.zeros_like(spread), spread / margin)
    share = None
    if W is not None:
        W = W.to(torch.float64)
        norm = float(torch.linalg.norm(W))
        share = float(torch.linalg.norm(W.sum(dim=0)) / (math.sqrt(K) * norm)) if norm > 0 else 0.0
    mean_margin = float(margin.mean())
    return AssumptionDiagnostics(
        loss=L,
        ks=float(ks),
        std_over_mean=som,
        spread_ratio=float(ratio.median()) if N else 0.0,
        spread_ratio_of_means=float(spread.mean()) / mean_margin if mean_margin > 0 else math.inf,
        ones_share=share,
    )


def plug_in_probability(losses: Any, labels: Any, K: int, *, weighting: str = "balanced") -> float:
    r"""The model's separation probability with the measured per-sample losses (the plug-in of O1).

    Each sample's loss ℓ_n is mapped to its margin Δ_n = Δ(ℓ_n) (Lemma 1) and to the centred logit
    vector the model (O2 and A1) would give it, Δ_n (e_{y_n} - 1/K). The plug-in probability is
    :func:`~sce_lib.separability.estimator.separation_probability` of these vectors: **exact**
    over all intra × inter pairs (no Monte Carlo), with the same weighting. Their distances are
    sqrt(A) and sqrt(E) of Proposition 2, so this is P_model with the empirical law of the losses
    in place of Exp(L): comparing it with P_model(L) measures the error due to O1, comparing the
    measured probability with it the error due to O2 (and A1). Part of the book's reconstruction.

    Losses of exactly 0 (a sample classified with probability 1 in floating point) have an
    infinite margin; they are raised to 1e-300 (margin log(K-1) + 690.8), which keeps them the
    largest margins without infinities. Losses >= log K give negative margins, as they should.

    Args:
        losses: (N,) per-sample losses, finite, >= 0.
        labels: (N,) class indices in [0, K-1]; at least two classes, each with two samples.
        K: number of classes of the network, an int >= 2.
        weighting: ``"balanced"`` (default) or ``"pairs"``, as in ``separation_probability``.

    Returns:
        The plug-in probability, a float in [0, 1].

    Example:
        >>> plug_in_probability([0.1, 0.1, 0.1, 0.1], [0, 0, 1, 1], 3)   # A = 0 < E
        1.0

    Derived in: book/06-separability.md, §Diagnostics of the assumptions.
    """
    K = check_classes(K)
    ell = check_positive_array(losses, "losses", allow_zero=True)
    if ell.ndim != 1:
        raise ValueError(f"losses: expected a 1-D array of shape (N,), got shape {ell.shape}")
    y = torch.as_tensor(np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels))
    if y.dim() != 1 or y.shape[0] != ell.shape[0]:
        raise ValueError(f"labels: expected shape (N,) = ({ell.shape[0]},) to match losses, got {tuple(y.shape)}")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"labels: expected integer class indices, got dtype {y.dtype}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) > K - 1):
        raise ValueError(f"labels: expected class indices in [0, {K - 1}], got min {int(y.min())} and max {int(y.max())}")
    ell = np.maximum(ell, LOSS_FLOOR)
    delta = torch.from_numpy(np.log(K - 1) - ell - np.log(-np.expm1(-ell)))
    centred = torch.nn.functional.one_hot(y.long(), K).to(torch.float64) - 1.0 / K
    return separation_probability(delta[:, None] * centred, y, weighting=weighting)
