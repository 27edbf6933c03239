"""The linear softmax classifier's Hessian ``(1/N) sum_n H_n kron x~_n x~_n^T``, derived symbolically."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._validate.symbolic import check_linear_sizes
from .engine import _covariance_pattern, is_zero

__all__ = ["SymbolicLinearHessian", "linear_ce_hessian_symbolic"]


@dataclass(frozen=True)
class SymbolicLinearHessian:
    """Hessian of the mean cross-entropy of a linear softmax classifier, symbolic, small case.

    Parameter ordering (as in ``sce_lib.linear_ce_hessian``): class-major,
    ``theta = [w_01, ..., w_0d, b_0, w_11, ..., w_1d, b_1, ..., b_{K-1}]`` (classes from 0, features
    and samples from 1), i.e.
    ``sce_lib.pack_theta(W, b)``.

    Attributes:
        d, K, N: features, classes, samples.
        W: (K, d) weight symbols ``w_kj``; b: (K, 1) bias symbols ``b_k``.
        X: (N, d) feature symbols ``x_nj``; Y: (N, K) target symbols ``y_nk`` (soft labels).
        theta: the K(d+1) parameter symbols in the ordering above.
        loss: ``(1/N) sum_n [logsumexp(W x_n + b) - y_n^T (W x_n + b)]``.
        hessian: (K(d+1), K(d+1)) Hessian of ``loss`` in ``theta`` by direct differentiation.
        kronecker_form: ``(1/N) sum_n (diag(p_n) - p_n p_n^T) kron x~_n x~_n^T`` with
            ``p_n = softmax(W x_n + b)`` and ``x~_n = [x_n; 1]``.
        holds: SymPy's verdict that ``hessian == kronecker_form``.
        independent_of_y: ``True`` when no ``y_nk`` occurs in the Hessian.
    """

    d: int
    K: int
    N: int
    W: sp.Matrix
    b: sp.Matrix
    X: sp.Matrix
    Y: sp.Matrix
    theta: tuple[sp.Symbol, ...]
    loss: sp.Expr
    hessian: sp.Matrix
    kronecker_form: sp.Matrix
    holds: bool
    independent_of_y: bool


def linear_ce_hessian_symbolic(d: int = 2, K: int = 3, N: int = 2) -> SymbolicLinearHessian:
    """Derive the linear classifier's Hessian and decide it equals ``(1/N) sum_n H_n kron x~_n x~_n^T``.

    ``H_n = diag(p_n) - p_n p_n^T`` is the logit Hessian of sample ``n`` and ``x~_n = [x_n; 1]``.
    SymPy differentiates the mean loss twice in ``theta`` (class-major ordering, see
    :class:`SymbolicLinearHessian`) and compares with the Kronecker form entry by entry.

    Args:
        d: features, ``>= 1``.
        K: classes, ``>= 2``.
        N: samples, 1 or 2 (two already show the sum over samples; SymPy's common denominator
            grows with the product of the N softmax denominators, so more is slow).
            ``K(d+1) <= 40``. About 1 s for the default d = 2, K = 3, N = 2.

    Returns:
        A :class:`SymbolicLinearHessian` with ``hessian``, ``kronecker_form`` and ``holds``.

    Example:
        >>> h = linear_ce_hessian_symbolic(d=1, K=2, N=1)
        >>> h.holds, h.independent_of_y, h.hessian.shape
        (True, True, (4, 4))

    Derived in: book/04-convexity-weights.md, §The Kronecker Hessian.
    """
    d, K, N = check_linear_sizes(d, K, N)
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"w_{k}{j + 1}", real=True))
    b = sp.Matrix(K, 1, lambda k, _: sp.Symbol(f"b_{k}", real=True))
    X = sp.Matrix(N, d, lambda n, j: sp.Symbol(f"x_{n + 1}{j + 1}", real=True))
    Y = sp.Matrix(N, K, lambda n, k: sp.Symbol(f"y_{n + 1}{k}", real=True))
    theta = tuple(s for k in range(K) for s in [*W.row(k), b[k]])

    total_loss: sp.Expr = sp.Integer(0)
    total_kron = sp.zeros(K * (d + 1), K * (d + 1))
    logits: list[sp.Expr] = []
    for n in range(N):
        z = W * X.row(n).T + b
        logits.extend(z)
        exps = [sp.exp(zk) for zk in z]
        denominator = sp.Add(*exps)
        total_loss += sp.log(denominator) - sp.Add(*[Y[n, k] * z[k] for k in range(K)])
        p_n = [e / denominator for e in exps]
        x_tilde = sp.Matrix([*X.row(n), 1])
        total_kron += sp.kronecker_product(_covariance_pattern(p_n), x_tilde * x_tilde.T)
    loss = total_loss / N
    kronecker_form = total_kron / N
    hessian = sp.hessian(loss, theta)
    return SymbolicLinearHessian(
        d=d, K=K, N=N, W=W, b=b, X=X, Y=Y, theta=theta, loss=loss, hessian=hessian,
        kronecker_form=kronecker_form, holds=is_zero(hessian - kronecker_form, logits),
        independent_of_y=not any(hessian.has(s) for s in Y))
