"""Cross-entropy ``CE(z, y) = logsumexp(z) - y^T z``: the loss identity, gradient and Hessian."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
import torch

from .._types import TensorLike
from .engine import _covariance_pattern, _evaluate, _tidy, is_zero
from .softmax import SoftmaxSymbolic, _OnSoftmax, softmax_symbolic

__all__ = ["SymbolicCEHessian", "ce_hessian_symbolic"]


@dataclass(frozen=True)
class SymbolicCEHessian(_OnSoftmax):
    """Cross-entropy ``CE(z, y) = logsumexp(z) - y^T z``, its gradient and Hessian in ``z``.

    Attributes:
        softmax: the :class:`SoftmaxSymbolic` of the logits; ``K``, ``z``, ``p`` and ``p_symbols``
            are read from it.
        y: target symbols ``(y_0, ..., y_{K-1})`` (any real target vector; a distribution in the book).
        loss: ``log(sum_k exp(z_k)) - sum_k y_k z_k``.
        gradient: (K, 1) gradient of ``loss`` in ``z``, as SymPy differentiates it.
        gradient_pattern: (K, 1) matrix ``p - y`` in the stand-ins.
        hessian: (K, K) Hessian of ``loss`` in ``z``, tidied.
        pattern: (K, K) matrix ``diag(p) - p p^T`` in the stand-ins.
        loss_identity_holds: verdict that ``-sum_k y_k log p_k == loss`` when ``sum_k y_k = 1``.
        gradient_holds: verdict that ``gradient == p - y``.
        hessian_holds: verdict that ``hessian == diag(p) - p p^T``.
        independent_of_y: ``True`` when no ``y_k`` occurs in the Hessian.
    """

    softmax: SoftmaxSymbolic
    y: tuple[sp.Symbol, ...]
    loss: sp.Expr
    gradient: sp.Matrix
    gradient_pattern: sp.Matrix
    hessian: sp.Matrix
    pattern: sp.Matrix
    loss_identity_holds: bool
    gradient_holds: bool
    hessian_holds: bool
    independent_of_y: bool

    @property
    def holds(self) -> bool:
        """All four verdicts at once."""
        return (self.loss_identity_holds and self.gradient_holds and self.hessian_holds
                and self.independent_of_y)

    def evaluate(self, z: TensorLike) -> torch.Tensor:
        """The Hessian at the logits ``z`` (K,), to 30 digits, as a float64 (K, K) tensor."""
        return _evaluate(self.hessian, self.z, z, "z")


def ce_hessian_symbolic(K: int) -> SymbolicCEHessian:
    """Hessian of ``CE(z, y) = logsumexp(z) - y^T z`` in ``z``: ``diag(p) - p p^T``, free of ``y``.

    SymPy also decides that ``-sum_k y_k log p_k`` equals ``logsumexp(z) - y^T z`` on the
    simplex (``y_{K-1} = 1 - sum_{k<K-1} y_k``) and that the gradient is ``p - y``.

    Args:
        K: number of classes, ``2 <= K <= 12`` (about 0.2 s for K = 6).

    Returns:
        A :class:`SymbolicCEHessian`; ``.holds`` is the conjunction of its four verdicts.

    Example:
        >>> H = ce_hessian_symbolic(3)
        >>> H.hessian_holds, H.independent_of_y, H.pattern[0, 0]
        (True, True, -p_0**2 + p_0)

    Derived in: book/02-cross-entropy.md, §The Hessian.
    """
    s = softmax_symbolic(K)
    y = sp.symbols(f"y_0:{s.K}", real=True)
    lse = sp.log(sp.Add(*[sp.exp(zi) for zi in s.z]))
    loss = lse - sp.Add(*[yk * zk for yk, zk in zip(y, s.z)])

    nll = -sp.Add(*[yk * sp.log(pk) for yk, pk in zip(y, s.p)])
    on_simplex = {y[-1]: 1 - sp.Add(*y[:-1])}
    loss_identity_holds = is_zero(sp.expand(sp.expand_log(nll - loss, force=True).subs(on_simplex)))

    z_column = sp.Matrix(s.z)
    raw_gradient = sp.Matrix([loss]).jacobian(z_column).T
    gradient_pattern = sp.Matrix(s.p_symbols) - sp.Matrix(y)
    gradient_holds = is_zero(raw_gradient - s.in_z(gradient_pattern), s.z)

    raw_hessian = raw_gradient.jacobian(z_column)
    pattern = _covariance_pattern(s.p_symbols)
    hessian_holds = is_zero(raw_hessian - s.in_z(pattern), s.z)
    independent_of_y = not any(raw_hessian.has(yk) for yk in y)

    exps = [sp.exp(zi) for zi in s.z]
    return SymbolicCEHessian(
        softmax=s, y=tuple(y), loss=loss, gradient=raw_gradient, gradient_pattern=gradient_pattern,
        hessian=raw_hessian.applyfunc(lambda e: _tidy(e, exps)), pattern=pattern,
        loss_identity_holds=loss_identity_holds, gradient_holds=gradient_holds,
        hessian_holds=hessian_holds, independent_of_y=independent_of_y)
