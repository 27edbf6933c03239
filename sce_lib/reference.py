"""The reference oracle: softmax, log-softmax, log-sum-exp and cross-entropy in mpmath, and ulp distances.

Every function evaluates the definition in ``digits`` significant decimal digits (default
:data:`DIGITS` = 50) with mpmath, independently of PyTorch, and is written so that no step cancels:

* ``log p_k = -log1p(u_k)`` with ``u_k = sum_{j != k} exp(z_j - z_k)``: a sum of positive terms and a
  ``log1p``, so ``log p_k`` keeps its relative accuracy even when it is tiny (``log p = -1e-300``
  where ``z_k - lse(z)`` would cancel to 0 in any fixed precision);
* ``lse(z) = m + log1p(sum_{j != a} exp(z_j - m))`` (``m = z_a`` a maximum) is recomputed with as
  many extra digits as the cancellation between ``m`` and the ``log1p`` term costs, so that a result
  near 0 is also exact to ``digits`` significant digits;
* cross-entropy is ``sum_k y_k (-log p_k)``, a sum of non-negative terms (with ``0 * inf = 0``).

Inputs are tensors, arrays or nested lists in any real dtype; they are read exactly as float64
numbers (one host synchronisation when they are on a GPU: this module is for tests and
measurements, not hot loops). Results are ``mpmath.mpf`` numbers (lists of them for rows), so the
error of a float computation can be measured against them with :func:`ulp_distance`.

The textbook ``exp(z) / sum exp(z)`` (:func:`naive_softmax`) is here too, as the formula the book
shows failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import torch

from ._types import TensorLike
from ._validate.reference import as_floats, check_digits, check_smoothing, logit_rows, real_tensor, target_rows
from ._validate.scalars import check_float_dtype, check_option

__all__ = ["DIGITS", "logsumexp", "softmax", "log_softmax", "cross_entropy", "ulp", "ulp_distance",
           "naive_softmax"]

#: Default working precision, in significant decimal digits.
DIGITS = 50

_NEG_INF = float("-inf")


# ----------------------------------------------------------------------------------------------
# one row, in the current mpmath precision
# ----------------------------------------------------------------------------------------------
def _log_p_row(row: Sequence[float]) -> list[mpmath.mpf]:
    """log p_k for every k of one row, in O(K) exponentials and without cancellation.

    With a a maximal class and r = sum_{j != a} exp(z_j - z_a) (positive terms):
    log p_a = -log1p(r) (exact when tiny), and log p_k = -((z_a - z_k) + log1p(r)) for k != a, a
    sum of two non-negative terms. -inf where z_k = -inf. Call inside a workdps context a few
    digits above the wanted precision (see :func:`_guard`).
    """
    a = max(range(len(row)), key=lambda j: row[j])
    m = mpmath.mpf(row[a])
    rest = mpmath.fsum(mpmath.exp(mpmath.mpf(v) - m) for j, v in enumerate(row) if j != a and v != _NEG_INF)
    log1p_rest = mpmath.log1p(rest)
    return [mpmath.mpf("-inf") if v == _NEG_INF else -log1p_rest if k == a else -((m - mpmath.mpf(v)) + log1p_rest)
            for k, v in enumerate(row)]


def _guard(row: Sequence[float]) -> int:
    """Extra working digits: 10, plus those the sum of K terms can lose."""
    return 10 + len(str(len(row)))


def _lse(row: Sequence[float], digits: int) -> mpmath.mpf:
    """m + log1p(t), with enough working digits that the sum keeps ``digits`` significant digits."""
    a = max(range(len(row)), key=lambda j: row[j])
    work = digits + _guard(row)
    while True:
        with mpmath.workdps(work):
            m = mpmath.mpf(row[a])
            t = mpmath.fsum(mpmath.exp(mpmath.mpf(v) - m) for j, v in enumerate(row) if j != a and v != _NEG_INF)
            result = m + mpmath.log1p(t)
            # each term is rounded by about |m| 10^-work; the sum needs |result| 10^-(digits + 5)
            enough = t == 0 or m == 0 or (
                result != 0 and abs(m) * mpmath.mpf(10) ** (-work) <= abs(result) * mpmath.mpf(10) ** (-(digits + 5)))
        if enough or work > 4000:  # float64 inputs: m + log1p(t) cannot cancel beyond ~1100 digits
            with mpmath.workdps(digits):
                return +result
        work *= 2


def _rows_out(values: list[Any], one_row: bool) -> Any:
    return values[0] if one_row else values


# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------
def logsumexp(z: TensorLike, digits: int = DIGITS) -> mpmath.mpf | list[mpmath.mpf]:
    """``log sum_k exp(z_k)`` along the last dimension, exact to ``digits`` significant digits.

    Args:
        z: (K,) or (N, K) logits, K >= 1; -inf allowed, not NaN/+inf, not a row of only -inf.
        digits: significant decimal digits, >= 20 (default 50).

    Returns:
        An ``mpmath.mpf`` for (K,), a list of N for (N, K).

    Example:
        >>> float(logsumexp([0.0, 0.0]))  # log 2
        0.6931471805599453

    Derived in: book/01-softmax.md, §Log-softmax and log-sum-exp.
    """
    digits = check_digits(digits)
    rows, one = logit_rows(z)
    return _rows_out([_lse(row, digits) for row in rows], one)


def log_softmax(z: TensorLike, digits: int = DIGITS) -> list[mpmath.mpf] | list[list[mpmath.mpf]]:
    """``log p_k = z_k - lse(z)``, computed as ``-log1p(sum_{j != k} exp(z_j - z_k))`` (no cancellation).

    Args:
        z: (K,) or (N, K) logits (as in :func:`logsumexp`).
        digits: significant decimal digits, >= 20 (default 50).

    Returns:
        A list of K ``mpf`` (``-inf`` where ``z_k = -inf``) for (K,); a list of N such lists for (N, K).

    Example:
        >>> print(mpmath.nstr(log_softmax([0.0, -50.0])[0], 5))  # -log1p(e^-50), not 0
        -1.9287e-22

    Derived in: book/01-softmax.md, §Log-softmax and log-sum-exp.
    """
    digits = check_digits(digits)
    rows, one = logit_rows(z)
    out = []
    for row in rows:
        with mpmath.workdps(digits + _guard(row)):
            logp = _log_p_row(row)
        with mpmath.workdps(digits):
            out.append([+v for v in logp])
    return _rows_out(out, one)


def softmax(z: TensorLike, digits: int = DIGITS) -> list[mpmath.mpf] | list[list[mpmath.mpf]]:
    """``p_k = exp(log p_k)`` with :func:`log_softmax`'s exact ``log p_k`` (0 where ``z_k = -inf``).

    Args:
        z: (K,) or (N, K) logits (as in :func:`logsumexp`).
        digits: significant decimal digits, >= 20 (default 50).

    Returns:
        A list of K ``mpf`` for (K,); a list of N such lists for (N, K).

    Example:
        >>> [float(p) for p in softmax([0.0, 0.0, 0.0, 0.0])]
        [0.25, 0.25, 0.25, 0.25]

    Derived in: book/01-softmax.md, §Definition.
    """
    digits = check_digits(digits)
    rows, one = logit_rows(z)
    out = []
    for row in rows:
        with mpmath.workdps(digits + _guard(row)):
            p = [mpmath.exp(v) for v in _log_p_row(row)]
        with mpmath.workdps(digits):
            out.append([+v for v in p])
    return _rows_out(out, one)


def cross_entropy(
    logits: TensorLike,
    target: TensorLike,
    *,
    label_smoothing: float = 0.0,
    reduction: str = "none",
    digits: int = DIGITS,
) -> mpmath.mpf | list[mpmath.mpf]:
    """Cross-entropy ``sum_k y_k (-log p_k)`` of each row, with class indices or soft targets.

    With label smoothing ``eps`` the target is ``y_eps = (1 - eps) y + eps / K`` (``y`` one-hot for
    class indices), the convention of ``torch.nn.functional.cross_entropy``. Every term is
    non-negative (``0 * (+inf) = 0``), so the sum does not cancel; a row whose loss is 1e-300 is
    returned to ``digits`` significant digits.

    Args:
        logits: (N, K) logits, K >= 1 (as in :func:`logsumexp`).
        target: (N,) class indices in [0, K-1], or (N, K) probabilities >= 0 (used as given).
        label_smoothing: ``eps`` in [0, 1].
        reduction: ``"none"`` (a list of N ``mpf``), ``"sum"`` or ``"mean"`` (one ``mpf``).
        digits: significant decimal digits, >= 20 (default 50).

    Returns:
        The per-row losses (``+inf`` where a positive target weight meets ``p_k = 0``), or their
        sum or mean.

    Example:
        >>> float(cross_entropy([[0.0, 0.0]], [1], reduction="mean"))  # log 2
        0.6931471805599453
        >>> print(mpmath.nstr(cross_entropy([[0.0, -700.0]], [0])[0], 5))
        9.8597e-305

    Derived in: book/02-cross-entropy.md, §Cross-entropy of the softmax, §Label smoothing.
    """
    digits = check_digits(digits)
    eps = check_smoothing(label_smoothing)
    reduction = check_option(reduction, "reduction", ("none", "sum", "mean"))
    rows, one = logit_rows(logits, "logits")
    if one:
        raise ValueError(f"logits: expected a 2-D array (N, K), got shape ({len(rows[0])},)")
    n, k = len(rows), len(rows[0])
    y = target_rows(target, n, k)
    losses = []
    for row, yr in zip(rows, y):
        with mpmath.workdps(digits + _guard(row)):
            logp = _log_p_row(row)
            weights = [(1 - mpmath.mpf(eps)) * mpmath.mpf(v) + mpmath.mpf(eps) / k for v in yr]
            # 0 * (-log p_j) = 0, also where p_j = 0; every other term is >= 0: no cancellation
            losses.append(mpmath.fsum(w * -lp for w, lp in zip(weights, logp) if w != 0))
    with mpmath.workdps(digits):
        if reduction == "none":
            return [+v for v in losses]
        total = mpmath.fsum(losses)
        return +(total / n if reduction == "mean" else total)


def ulp(x: float | mpmath.mpf, dtype: torch.dtype) -> mpmath.mpf:
    """The spacing of ``dtype``'s numbers at ``|x|``: ``eps 2^floor(log2 |x|)``, or the smallest
    subnormal below the normal range (and at 0).

    Args:
        x: a real number (float or ``mpf``).
        dtype: a floating torch dtype (float16, bfloat16, float32, float64).

    Returns:
        An exact ``mpf`` (a power of two).

    Example:
        >>> float(ulp(1.0, torch.float64)) == torch.finfo(torch.float64).eps
        True
    """
    info = torch.finfo(check_float_dtype(dtype))
    x = abs(mpmath.mpf(x))
    if x < info.smallest_normal:
        return mpmath.mpf(info.smallest_normal) * mpmath.mpf(info.eps)
    _, exponent = mpmath.frexp(x)  # x = m 2^e, 1/2 <= m < 1: floor(log2 x) = e - 1
    return mpmath.mpf(info.eps) * mpmath.mpf(2) ** (exponent - 1)


def ulp_distance(computed: TensorLike, exact: TensorLike | Sequence[Any], dtype: torch.dtype | None = None,
                 scale: TensorLike | Sequence[Any] | None = None) -> torch.Tensor:
    """``|computed - exact| / ulp(exact)``, element by element, in units of ``dtype``'s spacing.

    Infinities must match exactly (distance 0, else +inf); NaN computed is +inf.

    Args:
        computed: the float results, any shape (a tensor's dtype is the default ``dtype``).
        exact: the reference values (``mpf`` or floats), nested like ``computed`` (or flat).
        dtype: the format whose ulp is the unit (default: ``computed``'s dtype, float64 for lists).
        scale: optional magnitudes to take the ulp of instead of ``exact`` (same nesting), e.g.
            the size of the inputs where the result is near 0.

    Returns:
        A float64 tensor of distances, ``computed``'s shape (on the CPU).

    Example:
        >>> ulp_distance(torch.tensor([1.0 + 2**-52], dtype=torch.float64), [1])
        tensor([1.], dtype=torch.float64)
    """
    if dtype is None:
        dtype = computed.dtype if isinstance(computed, torch.Tensor) and computed.is_floating_point() else torch.float64
    shape = computed.shape if isinstance(computed, torch.Tensor) else torch.as_tensor(as_floats(computed, "computed")).shape
    values = as_floats(computed, "computed")
    refs = _flatten(exact)
    scales = refs if scale is None else _flatten(scale)
    if len(refs) != len(values) or len(scales) != len(values):
        raise ValueError(f"exact: expected {len(values)} values (those of computed), got {len(refs)}")
    out = []
    # The references keep all their digits: converting them at mpmath's default 15 digits would
    # round float64 distances to whole ulps.
    with mpmath.workdps(max(mpmath.mp.dps, DIGITS)):
        for c, e, s in zip(values, refs, scales):
            e = mpmath.mpf(e)
            if mpmath.isinf(e) or c != c or abs(c) == float("inf"):
                out.append(0.0 if c == e else float("inf"))
            else:
                out.append(float(abs(mpmath.mpf(c) - e) / ulp(s, dtype)))
    return torch.tensor(out, dtype=torch.float64).reshape(shape)


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().reshape(-1).tolist()
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten(item)]
    return [x]


def naive_softmax(z: TensorLike, dim: int = -1) -> torch.Tensor:
    """The textbook formula ``exp(z) / sum exp(z)``, without the shift: NOT accurate.

    It overflows (NaN) once a logit passes ``log(max)`` of the dtype and divides 0 by 0 when every
    logit is below ``log(smallest subnormal)``; the book shows where. For demonstrations and as the
    baseline that the stable :func:`sce_lib.softmax` is compared with.

    Args:
        z: (..., K) logits (a tensor keeps its dtype and device; lists become float64).
        dim: the class dimension.

    Returns:
        (..., K) tensor, dtype and device of ``z``.

    Example:
        >>> naive_softmax(torch.tensor([100.0, 0.0])).tolist()  # float32: exp(100) overflows
        [nan, 0.0]

    Derived in: book/01-softmax.md, §Where the naive formula breaks.
    """
    z = real_tensor(z, "z")
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)
