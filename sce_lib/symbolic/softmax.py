"""Symbolic softmax and its Jacobian ``d p_i / d z_j = p_i (delta_ij - p_j)``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp
import torch

from .._types import TensorLike
from .._validate.symbolic import check_K, check_Ks
from .engine import _covariance_pattern, _evaluate, _tidy, is_zero

__all__ = ["SoftmaxSymbolic", "SymbolicJacobian", "softmax_symbolic", "softmax_jacobian_symbolic",
           "verify_jacobian_pattern"]


@dataclass(frozen=True)
class SoftmaxSymbolic:
    """Symbols ``z_0..z_{K-1}``, the softmax expressions in them, and stand-in symbols ``p_0..p_{K-1}``.

    Attributes:
        K: number of classes.
        z: the logit symbols ``(z_0, ..., z_{K-1})`` (real).
        p: (K, 1) matrix with ``p[i] = exp(z_i) / sum_k exp(z_k)``.
        p_symbols: symbols ``(p_0, ..., p_{K-1})`` (positive) that stand for the entries of ``p``.
    """

    K: int
    z: tuple[sp.Symbol, ...]
    p: sp.Matrix
    p_symbols: tuple[sp.Symbol, ...]

    def in_z(self, expr: sp.Expr | sp.MatrixBase) -> sp.Expr | sp.MatrixBase:
        """Replace the stand-ins ``p_i`` in ``expr`` by ``softmax(z)_i``."""
        return expr.subs(dict(zip(self.p_symbols, self.p)))


class _OnSoftmax:
    """Mixin for results built on one :class:`SoftmaxSymbolic` (field ``softmax``): its ``K``,
    ``z``, ``p`` and ``p_symbols`` are read through, not copied."""

    softmax: SoftmaxSymbolic

    @property
    def K(self) -> int:
        """Number of classes."""
        return self.softmax.K

    @property
    def z(self) -> tuple[sp.Symbol, ...]:
        """Logit symbols ``(z_0, ..., z_{K-1})``."""
        return self.softmax.z

    @property
    def p(self) -> sp.Matrix:
        """(K, 1) softmax expressions in ``z``."""
        return self.softmax.p

    @property
    def p_symbols(self) -> tuple[sp.Symbol, ...]:
        """Stand-ins ``(p_0, ..., p_{K-1})``."""
        return self.softmax.p_symbols


def softmax_symbolic(K: int) -> SoftmaxSymbolic:
    """Symbolic softmax ``p_i = exp(z_i) / sum_k exp(z_k)`` for ``K`` classes.

    Args:
        K: number of classes, ``2 <= K <= 12``.

    Returns:
        A :class:`SoftmaxSymbolic` with the symbols ``z``, the (K, 1) expression matrix ``p`` and
        stand-in symbols ``p_symbols``.

    Example:
        >>> s = softmax_symbolic(2)
        >>> s.p[0]
        exp(z_0)/(exp(z_0) + exp(z_1))

    Derived in: book/01-softmax.md, §Definition.
    """
    K = check_K(K)
    z = sp.symbols(f"z_0:{K}", real=True)
    denominator = sp.Add(*[sp.exp(zi) for zi in z])
    p = sp.Matrix(K, 1, [sp.exp(zi) / denominator for zi in z])
    p_symbols = sp.symbols(f"p_0:{K}", positive=True)
    return SoftmaxSymbolic(K=K, z=tuple(z), p=p, p_symbols=tuple(p_symbols))


@dataclass(frozen=True)
class SymbolicJacobian(_OnSoftmax):
    """The softmax Jacobian ``J[i, j] = d p_i / d z_j``, derived by SymPy.

    Attributes:
        softmax: the :class:`SoftmaxSymbolic` it differentiates; ``K``, ``z``, ``p`` and
            ``p_symbols`` are read from it.
        jacobian: (K, K) matrix of derivatives in ``z``, each entry one factored fraction.
        pattern: (K, K) matrix ``diag(p) - p p^T`` in the stand-ins, i.e. ``p_i (delta_ij - p_j)``.
        holds: SymPy's verdict that ``jacobian == pattern`` with ``p_i := softmax(z)_i``.
    """

    softmax: SoftmaxSymbolic
    jacobian: sp.Matrix
    pattern: sp.Matrix
    holds: bool

    def evaluate(self, z: TensorLike) -> torch.Tensor:
        """The Jacobian at the logits ``z`` (K,), to 30 digits, as a float64 (K, K) tensor."""
        return _evaluate(self.jacobian, self.z, z, "z")


def _softmax_jacobian(K: int, tidy: bool) -> SymbolicJacobian:
    s = softmax_symbolic(K)
    raw = s.p.jacobian(sp.Matrix(s.z))
    pattern = _covariance_pattern(s.p_symbols)
    holds = is_zero(raw - s.in_z(pattern), s.z)
    exps = [sp.exp(zi) for zi in s.z]
    jacobian = raw.applyfunc(lambda e: _tidy(e, exps)) if tidy else raw
    return SymbolicJacobian(softmax=s, jacobian=jacobian, pattern=pattern, holds=holds)


def softmax_jacobian_symbolic(K: int) -> SymbolicJacobian:
    """Differentiate softmax symbolically: ``d p_i / d z_j = p_i (delta_ij - p_j)``.

    In matrix form ``J = diag(p) - p p^T``. SymPy differentiates ``exp(z_i) / sum_k exp(z_k)``
    and decides that the result equals the pattern (field ``holds``).

    Args:
        K: number of classes, ``2 <= K <= 12`` (about 0.1 s for K = 6).

    Returns:
        A :class:`SymbolicJacobian`: ``jacobian`` (K, K) in the logits, ``pattern`` (K, K) in the
        stand-ins ``p_0..p_{K-1}``, and ``holds``.

    Example:
        >>> J = softmax_jacobian_symbolic(3)
        >>> J.holds, J.pattern[0, 1]
        (True, -p_0*p_1)

    Derived in: book/01-softmax.md, §The Jacobian of softmax.
    """
    return _softmax_jacobian(K, tidy=True)


def verify_jacobian_pattern(Ks: Iterable[int] = range(2, 7)) -> dict[int, bool]:
    """Decide ``d softmax(z) / dz = diag(p) - p p^T`` symbolically for each ``K`` in ``Ks``.

    Args:
        Ks: the numbers of classes to check, each in [2, 12]; default ``range(2, 7)``.

    Returns:
        ``{K: verdict}``, one SymPy verdict per ``K`` (about 0.1 s in all for K = 2..6).

    Example:
        >>> all(verify_jacobian_pattern(range(2, 5)).values())
        True

    Derived in: book/01-softmax.md, §The Jacobian of softmax.
    """
    return {K: _softmax_jacobian(K, tidy=False).holds for K in check_Ks(Ks)}
