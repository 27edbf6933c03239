"""The sum-of-squares certificate ``v^T (diag(p) - p p^T) v = 1/2 sum_ij p_i p_j (v_i - v_j)^2``."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._validate.symbolic import check_K
from .engine import _covariance_pattern

__all__ = ["PSDCertificate", "psd_certificate"]


@dataclass(frozen=True)
class PSDCertificate:
    """The identity ``v^T (diag(p) - p p^T) v = 1/2 sum_i sum_j p_i p_j (v_i - v_j)^2`` on the simplex.

    Attributes:
        K: number of classes.
        p: symbols ``(p_0, ..., p_{K-1})`` (positive).
        v: symbols ``(v_0, ..., v_{K-1})`` (real), the direction.
        H: (K, K) matrix ``diag(p) - p p^T``.
        lhs: ``v^T H v``, expanded: ``sum_i p_i v_i^2 - (sum_i p_i v_i)^2``.
        rhs: the sum of squares written over pairs, ``sum_{i<j} p_i p_j (v_i - v_j)^2`` (equal
            to the double sum: its (i, j) and (j, i) terms agree and its i = j terms vanish).
        rhs_double_sum: ``1/2 sum_i sum_j p_i p_j (v_i - v_j)^2`` as literally stated.
        simplex: the substitution ``{p_{K-1}: 1 - sum_{i<K-1} p_i}`` that puts ``p`` on the simplex.
        difference: ``lhs - rhs_double_sum`` after the substitution, simplified by SymPy.
        difference_off_simplex: ``lhs - rhs_double_sum`` factored *without* the substitution,
            ``(1 - sum_i p_i) sum_i p_i v_i^2``: the identity needs ``sum_i p_i = 1``.
        holds: ``True`` when ``difference`` is exactly 0 and ``rhs`` equals ``rhs_double_sum``.
    """

    K: int
    p: tuple[sp.Symbol, ...]
    v: tuple[sp.Symbol, ...]
    H: sp.Matrix
    lhs: sp.Expr
    rhs: sp.Expr
    rhs_double_sum: sp.Expr
    simplex: dict[sp.Symbol, sp.Expr]
    difference: sp.Expr
    difference_off_simplex: sp.Expr
    holds: bool


def psd_certificate(K: int) -> PSDCertificate:
    """Certify ``diag(p) - p p^T`` PSD: ``v^T H v = 1/2 sum_ij p_i p_j (v_i - v_j)^2 >= 0``.

    With ``p_i >= 0`` the right-hand side is a sum of non-negative terms, so ``H`` is positive
    semidefinite for every ``p`` on the simplex. SymPy expands both sides with ``p_{K-1} = 1 -
    sum_{i<K-1} p_i`` and decides that the difference is exactly 0.

    Args:
        K: number of classes, ``2 <= K <= 12`` (well under a second for K <= 6).

    Returns:
        A :class:`PSDCertificate` with ``lhs``, ``rhs``, ``difference`` and ``holds``.

    Example:
        >>> c = psd_certificate(2)
        >>> c.holds, c.rhs
        (True, p_0*p_1*(v_0 - v_1)**2)

    Derived in: book/03-convexity-logits.md, §A sum-of-squares certificate.
    """
    K = check_K(K)
    p = sp.symbols(f"p_0:{K}", positive=True)
    v = sp.symbols(f"v_0:{K}", real=True)
    H = _covariance_pattern(p)
    v_column = sp.Matrix(v)
    lhs = sp.expand((v_column.T * H * v_column)[0, 0])
    rhs = sp.Add(*[p[i] * p[j] * (v[i] - v[j]) ** 2 for i in range(K) for j in range(i + 1, K)])
    rhs_double_sum = sp.Rational(1, 2) * sp.Add(
        *[p[i] * p[j] * (v[i] - v[j]) ** 2 for i in range(K) for j in range(K)])
    simplex = {p[-1]: 1 - sp.Add(*p[:-1])}
    difference = sp.simplify(sp.expand((lhs - rhs_double_sum).subs(simplex)))
    difference_off_simplex = sp.factor(lhs - rhs_double_sum)
    holds = difference == 0 and sp.expand(rhs - rhs_double_sum) == 0
    return PSDCertificate(K=K, p=tuple(p), v=tuple(v), H=H, lhs=lhs, rhs=rhs,
                          rhs_double_sum=rhs_double_sum, simplex=simplex, difference=difference,
                          difference_off_simplex=difference_off_simplex, holds=bool(holds))


