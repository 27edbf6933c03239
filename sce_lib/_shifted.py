"""The accurate shifted form of softmax, log-softmax, log-sum-exp and cross-entropy (no autograd).

Private kernels of :mod:`sce_lib.functional`: inputs are trusted (validated by the caller), and
the autograd rules live in :mod:`sce_lib._autograd`, whose ``forward`` methods call these
functions with gradients disabled, so that the buffers can be reused in place.

For a row of logits z (length K)::

    m = max_j z_j,   d_j = z_j - m <= 0,   t = sum_{j != a} exp(d_j)   (a = first argmax),
    logsumexp(z) = m + log1p(t),   log_softmax(z)_i = d_i - log1p(t),   softmax(z)_i = exp(d_i) / (1 + t),

with each difference d_j carried exactly as ``hi + lo`` (Knuth's TwoSum), see
:mod:`sce_lib.functional` for why.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

_LOG2 = math.log(2.0)


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
    """The shifted form of z along ``dim``, in the work dtype (float32 for half precision)."""
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


def log_softmax_rows(z: torch.Tensor, dim: int) -> torch.Tensor:
    """log softmax(z) along ``dim`` = (hi - log1p(t)) + lo.  Same shape, work dtype."""
    s = _shift(z, dim)
    return (s.hi - s.log1p_t) + s.lo


def softmax_rows(z: torch.Tensor, dim: int) -> torch.Tensor:
    """softmax(z) along ``dim`` = exp(z - m) / (1 + t).  Same shape, work dtype."""
    s = _shift(z, dim)
    return s.e / (1 + s.t)


def logsumexp_rows(z: torch.Tensor, dim: int) -> torch.Tensor:
    """logsumexp(z) along ``dim`` = m + log1p(t).  Shape of z without ``dim``, work dtype."""
    s = _shift(z, dim)
    return (s.m + s.log1p_t).squeeze(dim)


# ----------------------------------------------------------------------------------
# cross-entropy rows
# ----------------------------------------------------------------------------------


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


# On the CPU the rows go through in blocks of about 2**18 logits (1 MiB of float32).  The
# accurate forms make a few elementwise passes; on a block their temporaries stay in the CPU
# cache, whereas on all N rows each pass would allocate, fault in and stream an (N, K) array
# through memory (measured with every row of a 65536 x 1000 float32 batch confident, forward +
# backward, 2 threads: the TwoSum form took 3.7x the time of F.cross_entropy unblocked and about
# 1.3x in blocks; the float64 form of ``_ce_rows_wide`` replaced it for float32, see
# benchmarks/bench_cross_entropy.py for its figures).  A GPU takes all rows at once.
_BLOCK_ELEMENTS = 2**18
# Float32 logits with class indices (``_ce_block_float32``: one or two temporaries, not a dozen) take
# blocks 16x larger: as fast with one thread, and far fewer parallel regions, each a fork/join of the
# thread pool, which on a busy machine waits for a descheduled thread (measured on a loaded 2-core
# machine, 2 threads, N = 16384 confident rows: 8.6x F.cross_entropy in blocks of 2^18, 1.7x in 2^22;
# 1 thread: 0.79x and 0.83x).  Float64 keeps 2^18 (there 2^22 cost 1.13x against 0.76x with 1 thread).
_WIDE_BLOCK_FACTOR = 16


def _row_blocks(z: torch.Tensor, factor: int = 1) -> list[slice]:
    """Slices of the rows of z (N, K) to process one after the other (all rows off the CPU).

    Blocks of about ``factor * _BLOCK_ELEMENTS`` logits.
    """
    n, k = z.shape
    if z.device.type != "cpu":
        return [slice(0, n)]
    step = max(1, factor * _BLOCK_ELEMENTS // k)
    return [slice(i, i + step) for i in range(0, n, step)]


def _ce_rows_wide(z: torch.Tensor, c: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy of float32 logits, computed in float64.  z (n, K), c (n, 1), m (n, 1) -> (n,) float32.

    With m = max_j z_j, d_j = z_j - m and s = sum_{j != c} exp(d_j) (the target left out),
    sum_j exp(d_j) = 1 + (s + expm1(d_c)), so L_n = log1p(s + expm1(d_c)) - d_c.  Where the target is a
    maximum (d_c = 0) this is log1p(s), the accurate form of a tiny loss; elsewhere s >= 1 (it holds the
    maximum's exp(0)) and L_n >= log 2, so the absolute error ~2^-52 s of the log1p argument is far below
    an ulp of L_n.  Every step runs in float64: the difference of two float32 numbers is exact in float64
    unless their bits span more than 53 places (then its relative error is below 2^-53), exp, the sum and
    log1p add a few float64 ulps, and log1p(...) >= 0, -d_c >= 0 add without cancellation.  The float64
    result is within about (K + max_j |d_j|) 2^-53 of L_n relative, so its rounding to float32 is correct
    to half an ulp plus about 2^-40 ulps: no compensated (TwoSum) step is needed.  A -inf logit gives
    exp = 0 (and L_n = +inf where it is the target's).
    """
    m64 = m.to(torch.float64)
    d = z.to(torch.float64).sub_(m64)
    d_c = z.gather(1, c).to(torch.float64).sub_(m64)
    s = d.scatter_(1, c, -math.inf).exp_().sum(dim=1, keepdim=True)
    return torch.log1p(s.add_(torch.expm1(d_c))).sub_(d_c).squeeze(1).to(torch.float32)


def _ce_block_float32(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy of float32 logits and class indices.  (n, K) -> (n,)

    A row whose target is not a maximum has p_c <= 1/2, hence loss >= log 2, where torch's fused
    log_softmax is accurate (see ``ce_rows``); a row whose target is a maximum ("candidate") goes through
    ``_ce_rows_wide``.  Per block: no candidate -> the fused kernel alone; many -> every row in float64
    (one path, no gathered copies); a few -> the fused kernel, and the candidates gathered.
    """
    c = target[:, None]
    m = z.amax(dim=1, keepdim=True)
    candidate = (z.gather(1, c) == m).squeeze(1)
    n_candidates = int(candidate.sum())
    if 8 * n_candidates > candidate.numel():
        return _ce_rows_wide(z, c, m)
    rows = -torch.log_softmax(z, dim=1).gather(1, c).squeeze(1)
    if n_candidates:
        idx = candidate.nonzero().squeeze(1)
        rows[idx] = _ce_rows_wide(z[idx], c[idx], m[idx])
    return rows


def _ce_block(z: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-sample cross-entropy: torch's fused kernel, an accurate form where the loss < log 2.  (n, K) -> (n,)"""
    if target.dim() == 1 and eps == 0.0:
        if z.dtype == torch.float32:
            return _ce_block_float32(z, target)
        # nearly every row's target a maximum (the only rows whose loss can be < log 2): the exact form
        # for the whole block, without the fused pass whose result it would replace (the exact form
        # costs several fused passes, so a block of half candidates still takes the fused kernel first)
        if 8 * int((z.gather(1, target[:, None]) == z.amax(dim=1, keepdim=True)).sum()) > 7 * z.shape[0]:
            return _ce_rows_exact(z, target, eps)
    rows = _ce_rows_fast(torch.log_softmax(z, dim=1), target, eps)
    refine = (rows < _LOG2).nonzero().squeeze(1)
    if refine.numel() == rows.numel():  # every row is confident: no gathered copy of z
        return _ce_rows_exact(z, target, eps)
    if refine.numel():
        rows[refine] = _ce_rows_exact(z[refine], target[refine], eps)
    return rows


def ce_rows(z: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """Per-sample cross-entropy L_n, accurate to a few ulps.  z (N, K), target (N,) or (N, K) -> (N,).

    torch's ``log_softmax`` is accurate to about 2 ulps wherever log p <= -log 2 (measured in
    tests/test_numerics.py); only a row whose loss is below log 2 can lose relative accuracy
    (its loss is log(1 + t) computed as log of a rounded 1 + t).  Float32 logits with class
    indices: the rows whose target is a maximum (the only ones that can have a loss below log 2)
    are computed in float64 (``_ce_rows_wide``, correctly rounded but for about 2^-40 ulps).
    Otherwise the rows with a loss below log 2, and only those, are recomputed by the accurate
    (TwoSum) shifted form.  On the CPU the rows go through in cache-sized blocks (see ``_row_blocks``).
    """
    rows = torch.empty(z.shape[0], dtype=z.dtype, device=z.device)
    wide = z.dtype == torch.float32 and target.dim() == 1 and eps == 0.0
    for block in _row_blocks(z, _WIDE_BLOCK_FACTOR if wide else 1):
        rows[block] = _ce_block(z[block], target[block], eps)
    return rows
