"""The margin model: Lemma 1, Proposition 2 and Proposition 3 of the book's reconstruction.

These are **the book's reconstruction** (``../shared/paper-digest.md`` §4) of the separability
argument of Das & Chaudhuri (arXiv:1909.06930), whose body could not be read: they hold under the
stated assumptions, not as the paper's theorems, and no number here comes from the paper.

Assumptions (digest §3.2):

* **O1** the per-sample losses are i.i.d. Exponential with mean L (the loss value);
* **O2** for a sample of class y all non-target logits are equal;
* **A1** the logits are centred (``1ᵀ M = 0``, automatic for ``M = C W``);
* **A3** the four samples of an (intra pair, inter pair) draw are independent.

Every function takes array-likes (numpy, torch, lists, scalars) and computes in float64 numpy;
it returns a Python ``float`` when every array argument is a scalar and a numpy array of the
broadcast shape otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate.separability import check_classes, check_positive_array, check_real_array

__all__ = [
    "margin_from_loss",
    "margin_cdf",
    "margin_pdf",
    "margin_sf",
    "margin_mean",
    "margin_var",
    "intra_value",
    "inter_value",
]


def _out(x: np.ndarray) -> float | np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


# --------------------------------------------------------------------------------------------
# Unchecked float64 kernels (shared with bounds.py, diagnostics.py): trusted inputs only.
# --------------------------------------------------------------------------------------------
def _margin(loss: np.ndarray, K: int) -> np.ndarray:
    # log(e^l - 1) = l + log(1 - e^-l) = l + log(-expm1(-l)): no overflow for large l, exact for small l.
    return np.log(K - 1) - loss - np.log(-np.expm1(-loss))


def _log_cdf(s: np.ndarray, L: np.ndarray, K: int) -> np.ndarray:
    # log F = -(1/L) log(1 + (K-1) e^-s); logaddexp avoids overflow of e^-s for s << 0.
    return -np.logaddexp(0.0, np.log(K - 1) - s) / L


def _sf(s: np.ndarray, L: np.ndarray, K: int) -> np.ndarray:
    # 1 - F = -expm1(log F): accurate in the right tail where F is 1 - tiny.
    return -np.expm1(_log_cdf(s, L, K))


def _log_pdf(s: np.ndarray, L: np.ndarray, K: int) -> np.ndarray:
    return np.log(K - 1) - s - np.log(L) - (1.0 / L + 1.0) * np.logaddexp(0.0, np.log(K - 1) - s)


# --------------------------------------------------------------------------------------------
# Lemma 1
# --------------------------------------------------------------------------------------------
def margin_from_loss(loss: Any, K: int) -> float | np.ndarray:
    r"""The logit margin of a sample as a function of its loss (Lemma 1 of the reconstruction).

    Under O2 (every non-target logit equal) a sample of loss :math:`\ell = -\log p_y` has margin

    .. math:: \Delta(\ell) = z_y - z_k = \log(K-1) - \log(e^{\ell} - 1),

    positive exactly when :math:`\ell < \log K`; :math:`\Delta \to +\infty` as :math:`\ell \to 0`.
    Computed as :math:`\log(K-1) - \ell - \log(-\mathrm{expm1}(-\ell))`, which neither overflows
    for large losses nor loses digits for tiny ones. This is the book's reconstruction
    (paper-digest §4.1), not a result quoted from the paper.

    Args:
        loss: per-sample losses, any shape, every value > 0 and finite.
        K: number of classes, an int >= 2.

    Returns:
        Δ, same shape as ``loss`` (a float for a scalar).

    Example:
        >>> round(margin_from_loss(0.1, 10), 3)
        4.449

    Derived in: book/06-separability.md, §The margin from the loss.
    """
    K = check_classes(K)
    return _out(_margin(check_positive_array(loss, "loss"), K))


# --------------------------------------------------------------------------------------------
# Proposition 3
# --------------------------------------------------------------------------------------------
def margin_cdf(s: Any, L: Any, K: int) -> float | np.ndarray:
    r"""CDF of the margin Δ under O1 + O2 (Proposition 3 of the reconstruction).

    With per-sample losses Exponential(mean L), Δ is type-I generalized logistic with location
    :math:`\log(K-1)`, scale 1 and shape :math:`1/L`:

    .. math:: F_\Delta(s) = \bigl(1 + (K-1)e^{-s}\bigr)^{-1/L},\qquad s \in \mathbb R.

    Evaluated in log space (``logaddexp``), so it neither overflows for very negative ``s``
    nor rounds to 1 early. Reconstruction of paper-digest §4.3, under its assumptions.

    Args:
        s: points, any shape (finite).
        L: loss value(s) > 0, broadcastable with ``s``.
        K: number of classes, an int >= 2.

    Returns:
        P(Δ <= s), the broadcast shape of ``s`` and ``L``.

    Example:
        >>> round(margin_cdf(2.0, 1.0, 2), 4)   # logistic: 1 / (1 + e^-2)
        0.8808

    Derived in: book/06-separability.md, §The law of the margin.
    """
    K = check_classes(K)
    s, L = check_real_array(s, "s"), check_positive_array(L, "L")
    return _out(np.exp(_log_cdf(s, L, K)))


def margin_sf(s: Any, L: Any, K: int) -> float | np.ndarray:
    r"""Survival function :math:`P(\Delta > s) = 1 - F_\Delta(s)`, accurate in the right tail.

    Computed as ``-expm1(log F)``; see :func:`margin_cdf` for the law (Proposition 3 of the
    book's reconstruction, under O1 and O2).

    Args:
        s: points, any shape. L: loss value(s) > 0, broadcastable. K: an int >= 2.

    Returns:
        P(Δ > s), the broadcast shape.

    Example:
        >>> margin_sf(60.0, 0.5, 10)   # (K-1) e^-60 / L to leading order; 1 - margin_cdf would give 0
        1.5761...e-25

    Derived in: book/06-separability.md, §The law of the margin.
    """
    K = check_classes(K)
    s, L = check_real_array(s, "s"), check_positive_array(L, "L")
    return _out(_sf(s, L, K))


def margin_pdf(s: Any, L: Any, K: int) -> float | np.ndarray:
    r"""Density of the margin Δ under O1 + O2 (Proposition 3 of the reconstruction).

    .. math:: f_\Delta(s) = \frac{(K-1)e^{-s}}{L}\bigl(1+(K-1)e^{-s}\bigr)^{-1/L-1}.

    Evaluated as the exponential of its logarithm. Reconstruction (paper-digest §4.3).

    Args:
        s: points, any shape. L: loss value(s) > 0, broadcastable. K: an int >= 2.

    Returns:
        f_Δ(s), the broadcast shape.

    Example:
        >>> round(margin_pdf(0.0, 1.0, 2), 4)  # the logistic density at 0
        0.25

    Derived in: book/06-separability.md, §The law of the margin.
    """
    K = check_classes(K)
    s, L = check_real_array(s, "s"), check_positive_array(L, "L")
    return _out(np.exp(_log_pdf(s, L, K)))


def margin_mean(L: Any, K: int) -> float | np.ndarray:
    r"""Mean of the margin under O1 + O2: :math:`E\Delta = \log(K-1) + \psi(1/L) + \gamma`.

    ψ is the digamma function and γ Euler's constant. As L → 0, EΔ ≈ log(K-1) + log(1/L) → ∞.
    Reconstruction of paper-digest §4.3 (Proposition 3), not the paper's statement.

    Args:
        L: loss value(s) > 0, any shape.
        K: number of classes, an int >= 2.

    Returns:
        EΔ, the shape of ``L``.

    Example:
        >>> round(margin_mean(0.1, 10), 3)
        5.026

    Derived in: book/06-separability.md, §The law of the margin.
    """
    from scipy.special import digamma  # here, not at import: scipy is slow to import

    K = check_classes(K)
    L = check_positive_array(L, "L")
    return _out(np.log(K - 1) + digamma(1.0 / L) + np.euler_gamma)


def margin_var(L: Any) -> float | np.ndarray:
    r"""Variance of the margin under O1 + O2: :math:`\mathrm{Var}\,\Delta = \psi'(1/L) + \pi^2/6`.

    ψ' is the trigamma function; the variance does not depend on K and decreases to π²/6 as
    L → 0 (the intra-class spread does not vanish). Reconstruction (paper-digest §4.3).

    Args:
        L: loss value(s) > 0, any shape.

    Returns:
        Var Δ, the shape of ``L``.

    Example:
        >>> round(margin_var(1.0), 3)   # psi'(1) + pi^2/6 = pi^2/3
        3.29

    Derived in: book/06-separability.md, §The law of the margin.
    """
    from scipy.special import polygamma

    L = check_positive_array(L, "L")
    return _out(polygamma(1, 1.0 / L) + np.pi**2 / 6)


# --------------------------------------------------------------------------------------------
# Proposition 2
# --------------------------------------------------------------------------------------------
def intra_value(di: Any, dj: Any, K: int) -> float | np.ndarray:
    r"""Squared distance of two same-class samples with margins Δ_i, Δ_j (Proposition 2).

    Under O2 and A1 a class-y sample has centred logits :math:`\Delta (e_y - \mathbb 1/K)`, so

    .. math:: A = \|M(h_i - h_j)\|^2 = \frac{K-1}{K}(\Delta_i - \Delta_j)^2 .

    Reconstruction of paper-digest §4.2, under its assumptions.

    Args:
        di, dj: margins, broadcastable shapes (finite).
        K: number of classes, an int >= 2.

    Returns:
        A, the broadcast shape.

    Example:
        >>> intra_value(3.0, 1.0, 5)
        3.2

    Derived in: book/06-separability.md, §The values of A and E.
    """
    K = check_classes(K)
    di, dj = check_real_array(di, "di"), check_real_array(dj, "dj")
    return _out((K - 1) / K * (di - dj) ** 2)


def inter_value(dk: Any, dl: Any, K: int) -> float | np.ndarray:
    r"""Squared distance of two samples of different classes with margins Δ_k, Δ_l (Proposition 2).

    .. math:: E = \|M(h_k - h_l)\|^2 = \frac{(K-1)(\Delta_k^2 + \Delta_l^2) + 2\Delta_k\Delta_l}{K}
              = \frac{K-2}{K}(\Delta_k^2+\Delta_l^2) + \frac1K(\Delta_k+\Delta_l)^2 .

    Reconstruction of paper-digest §4.2, under O2 and A1.

    Args:
        dk, dl: margins, broadcastable shapes (finite).
        K: number of classes, an int >= 2.

    Returns:
        E, the broadcast shape.

    Example:
        >>> inter_value(2.0, 2.0, 4)   # 2 Δ² for equal margins
        8.0

    Derived in: book/06-separability.md, §The values of A and E.
    """
    K = check_classes(K)
    dk, dl = check_real_array(dk, "dk"), check_real_array(dl, "dl")
    return _out(((K - 1) * (dk**2 + dl**2) + 2 * dk * dl) / K)
