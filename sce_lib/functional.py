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
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch

from ._validate import check_label_smoothing, check_logits, check_reduction, check_target, checks_enabled

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy"]

_LOG2 = math.log(2.0)


# ----------------------------------------------------------------------------------
# private, unvalidated helpers (inputs trusted)
# ----------------------------------------------------------------------------------


def _two_diff(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact difference a - b = hi + lo with hi = fl(a - b) (Knuth's TwoSum, 6 flops).

    Where hi is not finite (an operand is -inf, or the difference overflows) lo is 0.
    Without autograd the steps run in place (three buffers instead of six).
    """
    hi = a - b
    bb = hi - a
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        lo = (a - (hi - bb)) - (b + bb)
        return hi, torch.where(torch.isfinite(hi), lo, torch.zeros((), dtype=lo.dtype, device=lo.device))
    lo = hi - bb
    torch.sub(a, lo, out=lo)  # lo = a - (hi - bb), in place
    lo.sub_(bb.add_(b))
    # non-finite hi makes lo NaN (inf - inf); a finite hi never does
    return hi, lo.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)


class _Shifted(NamedTuple):
    """The shifted form of z along ``dim`` (reduced quantities keep the dim, size 1)."""

    m: torch.Tensor  # (..., 1, ...) row maximum
    hi: torch.Tensor  # (..., K, ...) fl(z - m)
    lo: torch.Tensor  # (..., K, ...) z - m - hi, exactly
    e: torch.Tensor  # (..., K, ...) exp(z - m), with e = 1 at the first argmax
    t: torch.Tensor  # (..., 1, ...) sum of e over all but the first argmax
    log1p_t: torch.Tensor  # (..., 1, ...) log(sum_j exp(z_j - m))


def _work_dtype(z: torch.Tensor) -> torch.dtype:
    # float16 / bfloat16 have too little range and precision for exp; compute in float32.
    return torch.float32 if z.dtype in (torch.float16, torch.bfloat16) else z.dtype


def _shift(z: torch.Tensor, dim: int) -> _Shifted:
    z = z.to(_work_dtype(z))
    m, a = z.max(dim=dim, keepdim=True)
    hi, lo = _two_diff(z, m)
    # exp(hi + lo) = exp(hi) (1 + lo + O(lo^2)), |lo| <= ulp(hi)/2
    if torch.is_grad_enabled() and z.requires_grad:
        ex = torch.exp(hi)
        e = ex + ex * lo
        t = e.scatter(dim, a, 0.0).sum(dim=dim, keepdim=True)
    else:
        e = torch.exp(hi)
        e.addcmul_(e, lo)  # e += e * lo, in place
        e.scatter_(dim, a, 0.0)  # leave the first argmax out of t ...
        t = e.sum(dim=dim, keepdim=True)
        e.scatter_(dim, a, 1.0)  # ... and put its exp(0) = 1 back
    return _Shifted(m, hi, lo, e, t, torch.log1p(t))


def _log_softmax(z: torch.Tensor, dim: int) -> torch.Tensor:
    s = _shift(z, dim)
    return ((s.hi - s.log1p_t) + s.lo).to(z.dtype)


def _softmax(z: torch.Tensor, dim: int) -> torch.Tensor:
    s = _shift(z, dim)
    return (s.e / (1 + s.t)).to(z.dtype)


def _logsumexp(z: torch.Tensor, dim: int) -> torch.Tensor:
    s = _shift(z, dim)
    return (s.m + s.log1p_t).squeeze(dim).to(z.dtype)


def _xlogy_rows(y: torch.Tensor, logp: torch.Tensor) -> torch.Tensor:
    """-sum_j y_j log p_j over dim 1 with the convention 0 * log 0 = 0.  (N,K),(N,K) -> (N,)"""
    terms = torch.where(y > 0, y * logp, torch.zeros((), dtype=logp.dtype, device=logp.device))
    return -terms.sum(dim=1)


def _smoothed(nll: torch.Tensor, logp: torch.Tensor, eps: float) -> torch.Tensor:
    """(1 - eps) nll + eps * mean_j(-log p_j), skipping a term whose weight is 0 (inf * 0)."""
    if eps == 0.0:
        return nll
    uniform = -logp.mean(dim=1)
    if eps == 1.0:
        return uniform
    return (1 - eps) * nll + eps * uniform


def _ce_rows_exact(z: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-sample cross-entropy by the accurate shifted form.  z (N, K) -> (N,)."""
    s = _shift(z, 1)
    if target.dim() == 1 and eps == 0.0:  # no full log-probability rows needed
        c = target[:, None]
        return ((s.log1p_t - s.hi.gather(1, c)) - s.lo.gather(1, c)).squeeze(1).to(z.dtype)
    logp = (s.hi - s.log1p_t) + s.lo
    if target.dim() == 1:
        c = target[:, None]
        nll = ((s.log1p_t - s.hi.gather(1, c)) - s.lo.gather(1, c)).squeeze(1)
    else:
        nll = _xlogy_rows(target.to(logp.dtype), logp)
    return _smoothed(nll, logp, eps).to(z.dtype)


def _ce_rows_fast(logp: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-sample cross-entropy from torch's log_softmax.  logp (N, K) -> (N,)."""
    if target.dim() == 1:
        nll = -logp.gather(1, target[:, None]).squeeze(1)
    else:
        nll = _xlogy_rows(target, logp)
    return _smoothed(nll, logp, eps)


def _reduce(rows: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return rows
    total = rows.sum()
    return total / rows.shape[0] if reduction == "mean" else total


# On the CPU the rows go through in blocks of about 2**18 logits (1 MiB of float32).  The
# exact form makes about a dozen elementwise passes (TwoSum, exp, sum); on a block its few
# temporaries stay in the CPU cache, whereas on all N rows each pass would allocate, fault
# in and stream an (N, K) array through memory.  Measured with every row of a 65536 x 1000
# float32 batch confident (benchmarks/bench_cross_entropy.py, 2 CPU threads), forward +
# backward: 3.7x the time of F.cross_entropy unblocked, about 1.6x in blocks, and about
# 1.0x once glibc's malloc keeps freed blocks for reuse (it does after any 2-32 MiB
# allocation has been freed; until then each block's temporaries are faulted in afresh).
# A GPU takes all rows at once.
_BLOCK_ELEMENTS = 2**18


def _row_blocks(z: torch.Tensor) -> list[slice]:
    """Slices of the rows of z (N, K) to process one after the other (all rows off the CPU)."""
    n, k = z.shape
    if z.device.type != "cpu":
        return [slice(0, n)]
    step = max(1, _BLOCK_ELEMENTS // k)
    return [slice(i, i + step) for i in range(0, n, step)]


def _ce_rows(z: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-sample cross-entropy: torch's fused kernel, exact form where the loss < log 2.  (n, K) -> (n,)"""
    rows = _ce_rows_fast(torch.log_softmax(z, dim=1), target, eps)
    refine = (rows < _LOG2).nonzero().squeeze(1)
    if refine.numel() == rows.numel():  # every row is confident: no gathered copy of z
        return _ce_rows_exact(z, target, eps)
    if refine.numel():
        rows[refine] = _ce_rows_exact(z[refine], target[refine], eps)
    return rows


class _CrossEntropy(torch.autograd.Function):
    """Cross-entropy with torch's fused log_softmax kernel on the hot path.

    torch's ``log_softmax`` is accurate to about 2 ulps wherever log p <= -log 2
    (measured in tests/test_numerics.py); only a row whose loss is below log 2 can lose
    relative accuracy (its loss is log(1 + t) computed as log of a rounded 1 + t).
    Those rows, and only those, are recomputed by the accurate shifted form.  On the CPU
    the rows go through in cache-sized blocks (see ``_row_blocks``).  The backward pass
    is (softmax(z) - y) * dL, written with differentiable ops on the saved input so that
    double backward (Hessians, HVPs) works.
    """

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, target: torch.Tensor, eps: float, reduction: str) -> torch.Tensor:
        rows = torch.empty(z.shape[0], dtype=z.dtype, device=z.device)
        for block in _row_blocks(z):
            rows[block] = _ce_rows(z[block], target[block], eps)
        ctx.save_for_backward(z, target, rows)
        ctx.eps, ctx.reduction = eps, reduction
        return _reduce(rows.clone() if reduction == "none" else rows, reduction)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None, None]:
        z, target, rows = ctx.saved_tensors
        eps, reduction = ctx.eps, ctx.reduction
        n, k = z.shape
        scale = grad_out / n if reduction == "mean" else grad_out
        scale = scale[:, None] if reduction == "none" else scale
        grad_z = grad_target = None
        create_graph = torch.is_grad_enabled()  # True only for double backward
        if ctx.needs_input_grad[0]:
            p = torch.softmax(z, dim=1)
            if target.dim() == 1:
                c = target[:, None]
                if create_graph:  # p is saved by softmax's own backward: no in-place ops
                    g = p - eps / k if eps else p
                    index = (torch.arange(n, device=z.device), target)
                    minus_y = torch.full((n,), eps - 1, dtype=p.dtype, device=p.device)
                    g = g.index_put(index, minus_y, accumulate=True)
                elif eps == 0.0:
                    # p_c - 1 = exp(-loss) - 1 = expm1(-loss): exact even where p_c is
                    # within an ulp of 1 (there p_c - 1 computed by subtraction would be 0).
                    g = p.scatter_(1, c, torch.expm1(-rows)[:, None])
                else:
                    g = p.sub_(eps / k)
                    g.scatter_add_(1, c, torch.full((n, 1), eps - 1, dtype=p.dtype, device=p.device))
            else:
                g = p - (target if eps == 0.0 else (1 - eps) * target + eps / k)
            grad_z = g * scale if create_graph else g.mul_(scale)
        if ctx.needs_input_grad[1] and target.dim() == 2:
            logp = torch.log_softmax(z, dim=1)
            weight = torch.where(target > 0, logp, logp.clamp_min(torch.finfo(logp.dtype).min))
            grad_target = -(1 - eps) * weight * scale
        return grad_z, grad_target, None, None


# ----------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------


def softmax(z: Any, dim: int = -1) -> torch.Tensor:
    """Softmax along ``dim``: p_i = exp(z_i - m) / sum_j exp(z_j - m), m = max_j z_j.

    Computed in the shifted form of the module docstring (never overflows; a logit of
    -inf gives probability exactly 0).  Measured worst error vs a 50-digit mpmath
    reference: see tests/test_numerics.py (a few ulps, float32 and float64).

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


def log_softmax(z: Any, dim: int = -1) -> torch.Tensor:
    """Log-softmax along ``dim``: log p_i = (z_i - m) - log1p(sum_{j != argmax} exp(z_j - m)).

    Accurate also where p_i is within an ulp of 1 (log p_i tiny), where
    ``z - logsumexp(z)`` returns 0.

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


def logsumexp(z: Any, dim: int = -1) -> torch.Tensor:
    """Log-sum-exp along ``dim``: LSE(z) = m + log1p(sum_{j != argmax} exp(z_j - m)).

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
    logits: Any, target: Any, reduction: str = "mean", label_smoothing: float = 0.0
) -> torch.Tensor:
    """Softmax cross-entropy: L_n = -sum_k y_nk log softmax(z_n)_k, reduced over n.

    With class indices c_n, L_n = logsumexp(z_n) - z_{n,c_n}.  Label smoothing eps
    replaces y by (1 - eps) y + eps/K.  Agrees with ``torch.nn.functional.cross_entropy``
    (same arguments, no class weights, no ignore_index), and is more accurate where the
    loss is tiny (a row with loss below log 2 is recomputed by the exact shifted form).
    A logit of -inf means "probability 0": the loss is +inf if the target puts mass on
    that class (and, with label smoothing > 0, always), finite otherwise.  Differentiable
    twice (autograd Hessians and Hessian-vector products work).

    Args:
        logits: (N, K), K >= 2, real floating (lists become float64).
        target: class indices (N,) in [0, K-1], or probability rows (N, K) (entries >= 0,
            rows summing to 1).
        reduction: "mean" (divide the sum by N), "sum" or "none" (per-sample (N,)).
        label_smoothing: eps in [0, 1].

    Returns:
        A scalar tensor, or (N,) for reduction="none"; dtype and device of ``logits``.

    Example:
        >>> cross_entropy([[2.0, 0.0], [0.0, 2.0]], [0, 0], reduction="none")
        tensor([0.1269, 2.1269], dtype=torch.float64)

    Derived in: book/02-cross-entropy.md, §Cross-entropy of the softmax.
    """
    logits, _ = check_logits(logits, "logits", ndim=2)
    target = check_target(target, logits, "target")
    if checks_enabled():
        reduction = check_reduction(reduction)
        label_smoothing = check_label_smoothing(label_smoothing)
    return _cross_entropy(logits, target, reduction, float(label_smoothing))


def _cross_entropy(logits: torch.Tensor, target: torch.Tensor, reduction: str, eps: float) -> torch.Tensor:
    work = _work_dtype(logits)
    z = logits if work == logits.dtype else logits.to(work)
    out = _CrossEntropy.apply(z, target.to(work) if target.is_floating_point() else target, eps, reduction)
    return out.to(logits.dtype)
