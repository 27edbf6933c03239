"""Softmax, log-softmax, log-sum-exp and cross-entropy, accurate at extreme logits.

All four rest on one computation, the *shifted* form of a row of logits z (length K):

    m = max_j z_j,   d_j = z_j - m <= 0,   t = sum_{j != a} exp(d_j)   (a = first argmax),
    logsumexp(z) = m + log1p(t),   log_softmax(z)_i = d_i - log1p(t),   softmax(z)_i = exp(d_i) / (1 + t).

Two details make it accurate to a few ulps even where the textbook formula is not
(measured against mpmath in tests/test_numerics.py):

* ``log1p(t)`` instead of ``log(sum_j exp(d_j))``: the sum includes exp(0) = 1 and
  rounding ``1 + t`` loses every digit of a tiny t, so a confidently correct class
  (true loss 1e-20) would get a loss of exactly 0 (Blanchard, Higham & Higham 2021,
  "Accurately computing the log-sum-exp and softmax functions").
* the difference d_j = z_j - m is carried exactly as ``hi + lo`` (Knuth's TwoSum), so
  exp(d_j) is not perturbed by the rounding of the subtraction (for d_j = -700 that
  rounding alone would cost hundreds of ulps).

A logit of -inf is allowed and means "this class has probability exactly zero":
softmax gives 0 there, log_softmax gives -inf, and the cross-entropy is finite unless
the target puts mass on such a class (then it is +inf).  NaN and +inf logits, and a
slice with no finite logit, are errors.

Derivatives.  Each function has an analytic derivative (:mod:`sce_lib._autograd`): the
forward value is the same accurate one whether or not the input requires a gradient, the
gradient can be differentiated again (Hessians, HVPs), and at a -inf logit every derivative
is finite (p = 0 there).  All four work under ``torch.func`` (``grad``, ``jacrev``,
``jacfwd``, ``hessian``, ``jvp``, ``vmap`` and compositions such as per-sample gradients
``vmap(grad(f))``).

Validation.  The arguments' types, shapes, dtypes and options are always checked.  The scans
of the data (NaN/inf logits, target ranges and row sums) read values back from the tensor
(one host synchronisation per call on a GPU); they are skipped inside ``validation_disabled()``
and on tensors wrapped by any ``torch.func`` transform (``grad``, ``vmap``, ``jvp``, ...; under
``vmap`` the values cannot be read, and one rule serves all transforms).  There a NaN logit
gives a NaN loss instead of an error; a tensor captured from outside the transform (say, a
fixed target) is an ordinary tensor and is still scanned.
"""

from __future__ import annotations

from typing import Literal

import torch

from ._autograd import _CrossEntropyRows, _LogSoftmax, _LogSumExp, _Softmax
from ._shifted import _shift, _work_dtype  # noqa: F401  (_shift: used by sce_lib.derivatives)
from ._types import TensorLike
from ._validate import check_label_smoothing, check_logits, check_reduction, check_target

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy"]

Reduction = Literal["mean", "sum", "none"]


# ----------------------------------------------------------------------------------
# private, unvalidated entry points (inputs trusted; also used by sce_lib.derivatives and
# sce_lib.linear).  Half-precision inputs are computed in float32 and rounded once at the end.
# ----------------------------------------------------------------------------------


def _softmax(z: torch.Tensor, dim: int) -> torch.Tensor:
    return _Softmax.apply(z.to(_work_dtype(z)), dim).to(z.dtype)


def _log_softmax(z: torch.Tensor, dim: int) -> torch.Tensor:
    return _LogSoftmax.apply(z.to(_work_dtype(z)), dim).to(z.dtype)


def _logsumexp(z: torch.Tensor, dim: int) -> torch.Tensor:
    return _LogSumExp.apply(z.to(_work_dtype(z)), dim).to(z.dtype)


def _cross_entropy(logits: torch.Tensor, target: torch.Tensor, reduction: str, eps: float) -> torch.Tensor:
    work = _work_dtype(logits)
    target = target.to(work) if target.is_floating_point() else target
    rows = _CrossEntropyRows.apply(logits.to(work), target, eps)
    if reduction == "none":
        out = rows
    elif reduction == "sum":
        out = rows.sum()
    else:
        out = rows.sum() / rows.shape[0]
    return out.to(logits.dtype)


# ----------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------


def softmax(z: TensorLike, dim: int = -1) -> torch.Tensor:
    """Softmax along ``dim``: p_i = exp(z_i - m) / sum_j exp(z_j - m), m = max_j z_j.

    Computed in the shifted form of the module docstring (never overflows; a logit of
    -inf gives probability exactly 0), also when ``z`` requires a gradient.  Measured worst
    error vs a 50-digit mpmath reference: see tests/test_numerics.py (a few ulps, float32
    and float64).  Differentiable (the gradient is finite at -inf logits) and usable under
    ``torch.func`` transforms (see the module docstring for validation there).

    Args:
        z: logits, shape (..., K, ...) with K >= 2 along ``dim``; tensor, array or list.
        dim: the class dimension.

    Returns:
        Probabilities, same shape, dtype and device as ``z``; each slice sums to 1.

    Example:
        >>> softmax([1000.0, 1000.0, -float("inf")])
        tensor([0.5000, 0.5000, 0.0000], dtype=torch.float64)

    Derived in: book/01-softmax.md, §Softmax and the max shift.
    """
    z, d = check_logits(z, "z", dim=dim)
    return _softmax(z, d)


def log_softmax(z: TensorLike, dim: int = -1) -> torch.Tensor:
    """Log-softmax along ``dim``: log p_i = (z_i - m) - log1p(sum_{j != argmax} exp(z_j - m)).

    Accurate also where p_i is within an ulp of 1 (log p_i tiny), where
    ``z - logsumexp(z)`` returns 0; the same accurate value when ``z`` requires a gradient.

    Args:
        z: logits, shape (..., K, ...) with K >= 2 along ``dim``.
        dim: the class dimension.

    Returns:
        Log-probabilities, same shape, dtype and device as ``z`` (-inf where z is -inf).

    Example:
        >>> log_softmax(torch.tensor([0.0, -50.0], dtype=torch.float64))
        tensor([-1.9287e-22, -5.0000e+01], dtype=torch.float64)

    Derived in: book/01-softmax.md, §Log-softmax and log-sum-exp.
    """
    z, d = check_logits(z, "z", dim=dim)
    return _log_softmax(z, d)


def logsumexp(z: TensorLike, dim: int = -1) -> torch.Tensor:
    """Log-sum-exp along ``dim``: LSE(z) = m + log1p(sum_{j != argmax} exp(z_j - m)).

    Its gradient is softmax(z), computed by the same accurate form.

    Args:
        z: logits, shape (..., K, ...) with K >= 2 along ``dim``.
        dim: the dimension reduced.

    Returns:
        Shape of ``z`` without ``dim``; same dtype and device.

    Example:
        >>> logsumexp([1e300, 1e300])
        tensor(1.0000e+300, dtype=torch.float64)

    Derived in: book/01-softmax.md, §Log-softmax and log-sum-exp.
    """
    z, d = check_logits(z, "z", dim=dim)
    return _logsumexp(z, d)


def cross_entropy(
    logits: TensorLike,
    target: TensorLike,
    *,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Softmax cross-entropy: L_n = -sum_k y_nk log softmax(z_n)_k, reduced over n.

    With class indices c_n, L_n = logsumexp(z_n) - z_{n,c_n}.  Label smoothing eps
    replaces y by (1 - eps) y + eps/K.  Agrees with ``torch.nn.functional.cross_entropy``
    (same arguments, no class weights, no ignore_index), and is more accurate where the
    loss is tiny (a row with loss below log 2 is recomputed by an accurate form: for float32
    logits and class indices in float64, correctly rounded on tests/test_numerics.py's grid;
    otherwise the exact shifted form).
    A logit of -inf means "probability 0": the loss is +inf if the target puts mass on
    that class (and, with label smoothing > 0, always), finite otherwise.

    Derivatives: the gradient in the logits is (p - y_eps) times the upstream weight, with
    p_c - 1 = expm1(-L_n) for class indices (full relative accuracy where p_c rounds to 1),
    the same numbers when taken with ``create_graph=True``; it is differentiable again
    (Hessians, HVPs).  The other entries p_j come from torch's fused softmax: below an ulp
    of 1 in absolute error, but a tiny p_j may be off by about |z_j - max z| / 2 ulps of
    itself (``ce_gradient`` is the componentwise-accurate p - y).  The gradient in probability targets is -(1 - eps) log p (finite at a -inf logit
    with zero target mass: the largest float times (1 - eps)).  Works under ``torch.func``
    (``grad``, ``hessian``, ``jacrev``, ``jvp``, ``vmap``, per-sample ``vmap(grad(...))``);
    there the data scans are skipped (module docstring).

    Args:
        logits: (N, K), K >= 2, real floating (lists become float64).
        target: class indices (N,) in [0, K-1], or probability rows (N, K) (entries >= 0,
            rows summing to 1).
        reduction: "mean" (divide the sum by N; N = 0 is a ValueError), "sum" (0 for
            N = 0) or "none" (per-sample (N,)).  Keyword only.
        label_smoothing: eps in [0, 1].  Keyword only.

    Returns:
        A scalar tensor, or (N,) for reduction="none"; dtype and device of ``logits``.

    Example:
        >>> cross_entropy([[2.0, 0.0], [0.0, 2.0]], [0, 0], reduction="none")
        tensor([0.1269, 2.1269], dtype=torch.float64)

    Derived in: book/02-cross-entropy.md, §Cross-entropy of the softmax.
    """
    logits, _ = check_logits(logits, "logits", ndim=2)
    reduction = check_reduction(reduction, logits.shape[0])
    eps = check_label_smoothing(label_smoothing)
    target = check_target(target, logits, "target")
    return _cross_entropy(logits, target, reduction, eps)
