"""Autograd rules of the accurate softmax family and cross-entropy (private).

Each public function of :mod:`sce_lib.functional` is one ``torch.autograd.Function`` of the
new style (``forward`` without ctx, ``setup_context``), so it works under ``torch.autograd``
(backward, double backward, ``torch.autograd.functional``) and under ``torch.func``
(``grad``, ``jacrev``, ``jacfwd``, ``hessian``, ``jvp``, ``vmap`` and their compositions):

* ``forward`` runs the accurate shifted form of :mod:`sce_lib._shifted` (gradients off, so its
  buffers are reused in place) whether or not the input requires a gradient;
* ``backward`` (reverse mode) and ``jvp`` (forward mode) are the analytic derivatives written
  with differentiable torch operations on the saved input and output, so that they can be
  differentiated again (Hessians, Hessian-vector products, forward-over-reverse);
* ``vmap`` moves the batch dimension of ``torch.func.vmap`` to the front and calls the function
  once on the whole batch (for cross-entropy: the batch of batches is flattened into rows).

The derivatives, for p = softmax(z) along the class dimension, y_eps = (1 - eps) y + eps/K::

    d softmax:      p * (dz - <p, dz>)          d log_softmax:  dz - <p, dz>
    d logsumexp:    <p, dz>                     d CE_n / dz_n = p_n - y_eps,n,   d CE_n / dy_n = -(1 - eps) log p_n

A class with logit -inf has p = 0: every derivative above is finite there.
"""

from __future__ import annotations

from typing import Any

import torch

from ._shifted import ce_rows, log_softmax_rows, logsumexp_rows, softmax_rows
from ._validate.core import _transformed


def _in_place_ok(*tensors: Any) -> bool:
    """In-place arithmetic is safe: no graph is being built and no transform wraps the tensors."""
    return not torch.is_grad_enabled() and not any(_transformed(t) for t in tensors)


def _front(x: torch.Tensor, bdim: int | None, size: int) -> torch.Tensor:
    """x with its vmap batch dimension first (broadcast to ``size`` if it has none)."""
    return x.expand(size, *x.shape) if bdim is None else x.movedim(bdim, 0)


class _Softmax(torch.autograd.Function):
    """p = softmax(z) along ``dim`` (``dim`` >= 0)."""

    @staticmethod
    def forward(z: torch.Tensor, dim: int) -> torch.Tensor:
        return softmax_rows(z, dim)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        (p,) = ctx.saved_tensors
        return p * (g - (g * p).sum(dim=ctx.dim, keepdim=True)), None

    @staticmethod
    def jvp(ctx: Any, dz: torch.Tensor, _: None) -> torch.Tensor:
        (p,) = ctx.saved_tensors
        return p * (dz - (dz * p).sum(dim=ctx.dim, keepdim=True))

    @staticmethod
    def vmap(info: Any, in_dims: tuple[Any, ...], z: torch.Tensor, dim: int) -> tuple[torch.Tensor, int]:
        return _Softmax.apply(_front(z, in_dims[0], info.batch_size), dim + 1), 0


class _LogSoftmax(torch.autograd.Function):
    """log p = log_softmax(z) along ``dim`` (``dim`` >= 0)."""

    @staticmethod
    def forward(z: torch.Tensor, dim: int) -> torch.Tensor:
        return log_softmax_rows(z, dim)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        ctx.dim = inputs[1]
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        (logp,) = ctx.saved_tensors
        return g - torch.exp(logp) * g.sum(dim=ctx.dim, keepdim=True), None

    @staticmethod
    def jvp(ctx: Any, dz: torch.Tensor, _: None) -> torch.Tensor:
        (logp,) = ctx.saved_tensors
        return dz - (torch.exp(logp) * dz).sum(dim=ctx.dim, keepdim=True)

    @staticmethod
    def vmap(info: Any, in_dims: tuple[Any, ...], z: torch.Tensor, dim: int) -> tuple[torch.Tensor, int]:
        return _LogSoftmax.apply(_front(z, in_dims[0], info.batch_size), dim + 1), 0


class _LogSumExp(torch.autograd.Function):
    """logsumexp(z) along ``dim`` (``dim`` >= 0, removed from the shape)."""

    @staticmethod
    def forward(z: torch.Tensor, dim: int) -> torch.Tensor:
        return logsumexp_rows(z, dim)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        ctx.dim = inputs[1]
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None]:
        (z,) = ctx.saved_tensors
        return g.unsqueeze(ctx.dim) * _Softmax.apply(z, ctx.dim), None

    @staticmethod
    def jvp(ctx: Any, dz: torch.Tensor, _: None) -> torch.Tensor:
        (z,) = ctx.saved_tensors
        return (_Softmax.apply(z, ctx.dim) * dz).sum(dim=ctx.dim)

    @staticmethod
    def vmap(info: Any, in_dims: tuple[Any, ...], z: torch.Tensor, dim: int) -> tuple[torch.Tensor, int]:
        return _LogSumExp.apply(_front(z, in_dims[0], info.batch_size), dim + 1), 0


# ----------------------------------------------------------------------------------
# cross-entropy
# ----------------------------------------------------------------------------------


def _row_gradient(z: torch.Tensor, target: torch.Tensor, rows: torch.Tensor, eps: float, in_place: bool) -> torch.Tensor:
    """d L_n / d z_n = s_n p_n - y_eps,n for every row, s_n = sum_k y_eps,nk.  (N, K) -> (N, K).

    s_n = 1 for a valid target; for probability rows it is kept (as torch does), so that this
    is the derivative of L for any y, and its derivative in y (a mixed second derivative) is
    the exact -(1 - eps) (I - p 1^T), not only its restriction to rows summing to 1.

    With class indices and eps = 0 the target entry is p_c - 1 = exp(-L_n) - 1 = expm1(-L_n):
    exact even where p_c is within an ulp of 1 (there p_c - 1 by subtraction would be 0).  It
    is written in terms of the output L_n, so that it can be differentiated again (through
    this Function's own derivative) with the same precision.
    """
    n, k = z.shape
    p = torch.softmax(z, dim=1)
    if target.dim() == 2:
        y = target if eps == 0.0 else (1 - eps) * target + eps / k
        s = y.sum(dim=1, keepdim=True)
        return p.mul_(s).sub_(y) if in_place else p * s - y
    c = target[:, None]
    if eps == 0.0:
        p_c_minus_1 = torch.expm1(-rows)[:, None]
        return p.scatter_(1, c, p_c_minus_1) if in_place else p.scatter(1, c, p_c_minus_1)
    minus_y = torch.full((n, 1), eps - 1, dtype=p.dtype, device=p.device)
    if in_place:
        return p.sub_(eps / k).scatter_add_(1, c, minus_y)
    return (p - eps / k).scatter_add(1, c, minus_y)


def _target_gradient(z: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """d L_n / d y_n = -(1 - eps) log p_n for probability rows.  (N, K) -> (N, K).

    Where p_j = 0 (a -inf logit) and y_j = 0 the derivative is +inf; it is returned as the
    largest finite number times (1 - eps) instead, so that a zero upstream weight gives 0, not NaN.
    """
    logp = _LogSoftmax.apply(z, 1)
    weight = torch.where(target > 0, logp, logp.clamp_min(torch.finfo(logp.dtype).min))
    return -(1 - eps) * weight


class _CrossEntropyRows(torch.autograd.Function):
    """Per-sample cross-entropy L_n (no reduction).  z (N, K); target (N,) int64 or (N, K); eps in [0, 1]."""

    @staticmethod
    def forward(z: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
        return ce_rows(z, target, eps)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        z, target, ctx.eps = inputs
        ctx.save_for_backward(z, target, output)
        ctx.save_for_forward(z, target, output)

    @staticmethod
    def backward(ctx: Any, grad_rows: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        z, target, rows = ctx.saved_tensors
        scale = grad_rows[:, None]
        in_place = _in_place_ok(z, grad_rows)
        grad_z = grad_target = None
        if ctx.needs_input_grad[0]:
            g = _row_gradient(z, target, rows, ctx.eps, in_place)
            grad_z = g.mul_(scale) if in_place else g * scale
        if ctx.needs_input_grad[1] and target.dim() == 2:
            grad_target = _target_gradient(z, target, ctx.eps) * scale
        return grad_z, grad_target, None

    @staticmethod
    def jvp(ctx: Any, dz: torch.Tensor | None, dtarget: torch.Tensor | None, _: None) -> torch.Tensor:
        z, target, rows = ctx.saved_tensors
        out = torch.zeros_like(rows)
        if dz is not None:
            out = out + (_row_gradient(z, target, rows, ctx.eps, False) * dz).sum(dim=1)
        if dtarget is not None and target.dim() == 2:
            out = out + (_target_gradient(z, target, ctx.eps) * dtarget).sum(dim=1)
        return out

    @staticmethod
    def vmap(info: Any, in_dims: tuple[Any, ...], z: torch.Tensor, target: torch.Tensor, eps: float) -> tuple[torch.Tensor, int]:
        b = info.batch_size
        z, target = _front(z, in_dims[0], b), _front(target, in_dims[1], b)
        n, k = z.shape[1], z.shape[2]
        rows = _CrossEntropyRows.apply(z.reshape(b * n, k), target.reshape(b * n, *target.shape[2:]), eps)
        return rows.reshape(b, n), 0
