"""SymPy derivations of the softmax Jacobian, the cross-entropy Hessian and the PSD certificate.

This module is *not* imported by ``import sce_lib`` (SymPy is slow to import); use
``from sce_lib.symbolic import ...``.

Every result is returned together with SymPy's verdict (a ``bool``) that the derived object equals
the closed form the book states. The verdicts are proofs, not numerical checks: an identity is
accepted only when the difference of both sides reduces *symbolically* to ``0``. To make that
reduction fast and reliable, every ``exp(...)`` is first written as a product of stand-ins
``e_i = exp(z_i)`` when its argument is a sum of logits (``exp(z_1 + z_2) -> e_1 e_2``), or split
into exponentials of single terms otherwise, and each stand-in is treated as an independent
variable; ``sympy.cancel`` then decides a rational-function identity, which is sound (if it returns
0, the identity holds for every value of the variables). Only when ``cancel`` does not return 0 is
the slower ``sympy.simplify`` tried (see :func:`is_zero`).

Notation (as in the book): ``z`` logits, ``p = softmax(z)``, ``y`` target, ``K`` classes, ``N``
samples, ``d`` features, ``W`` (K, d), ``b`` (K,), ``x~ = [x; 1]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp
import torch

__all__ = [
    "SoftmaxSymbolic",
    "SymbolicJacobian",
    "SymbolicCEHessian",
    "PSDCertificate",
    "SymbolicLinearHessian",
    "softmax_symbolic",
    "softmax_jacobian_symbolic",
    "ce_hessian_symbolic",
    "psd_certificate",
    "verify_jacobian_pattern",
    "linear_ce_hessian_symbolic",
    "is_zero",
]

# Sizes the symbolic routines accept. Above these SymPy still works, but slowly; the book never
# needs more (K up to 6 for the pattern proof, d = 2, K = 3 for the linear classifier).
_MAX_K = 12
_MAX_LINEAR_PARAMS = 40


# ----------------------------------------------------------------------------------------------
# Validation (the symbolic API takes only small positive integers)
# ----------------------------------------------------------------------------------------------
def _check_int(value: Any, name: str, minimum: int, maximum: int) -> int:
    """Return ``value`` as ``int`` if it is an integer in [minimum, maximum], else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} ({value!r})")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name}: expected an integer in [{minimum}, {maximum}], got {value}")
    return value


# ----------------------------------------------------------------------------------------------
# Deciding identities
# ----------------------------------------------------------------------------------------------
def _split_exponentials(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``exp(a + b)`` as ``exp(a) * exp(b)`` everywhere in ``expr``."""
    return sp.expand_power_exp(expr)


def _exponentials_as_products(expr: sp.Expr, exponents: Sequence[sp.Expr],
                              max_terms: int = 3) -> sp.Expr | None:
    """Replace each ``exp(a)`` in ``expr`` by ``e_i e_j ...`` when ``a = z_i + z_j + ...``.

    ``exponents`` are the ``z_i`` (e.g. the logits ``W x_n + b``); ``e_i`` stands for
    ``exp(z_i)``. Returns ``None`` if some exponent is not a sum of at most ``max_terms`` of them.
    """
    stand_ins = sp.symbols(f"_e0:{len(exponents)}", positive=True)
    keyed = {sp.expand(z): e for z, e in zip(exponents, stand_ins)}

    def decompose(argument: sp.Expr, terms_left: int) -> sp.Expr | None:
        if argument in keyed:
            return keyed[argument]
        if terms_left <= 1:
            return None
        for z, e in keyed.items():
            rest = decompose(sp.expand(argument - z), terms_left - 1)
            if rest is not None:
                return e * rest
        return None

    replacement = {}
    for atom in expr.atoms(sp.exp):
        product = decompose(sp.expand(atom.args[0]), max_terms)
        if product is None:
            return None
        replacement[atom] = product
    return expr.xreplace(replacement)


def is_zero(expr: sp.Expr | sp.MatrixBase, exponents: Sequence[sp.Expr] | None = None) -> bool:
    """SymPy's verdict that ``expr`` (a scalar or every matrix entry) is identically zero.

    Each ``exp(...)`` is replaced by a product of stand-ins ``e_i = exp(z_i)`` (when ``exponents``
    ``z_i`` are given and the argument is a sum of them) or split with ``exp(a + b) = exp(a)
    exp(b)``; ``cancel`` then decides the rational-function identity (fast, and sound: a 0 from
    it is a proof). ``simplify`` is the fallback when ``cancel`` does not give 0.

    Args:
        expr: a SymPy expression or matrix.
        exponents: optional expressions ``z_i`` whose exponentials are the building blocks.

    Returns:
        ``True`` if SymPy reduces it (every entry) to exactly ``0``; ``False`` otherwise.

    Example:
        >>> z = sp.Symbol("z")
        >>> is_zero(sp.exp(2 * z) - sp.exp(z) ** 2)
        True
    """
    entries: Iterable[sp.Expr] = expr if isinstance(expr, sp.MatrixBase) else (expr,)
    for entry in entries:
        rational = None
        if exponents is not None:
            rational = _exponentials_as_products(entry, exponents)
        if rational is None:
            rational = _split_exponentials(entry)
        if sp.cancel(rational) == 0:
            continue
        if sp.simplify(entry) != 0:
            return False
    return True


def _tidy(expr: sp.Expr, exps: Sequence[sp.Expr]) -> sp.Expr:
    """Write an expression in ``exp(z_i)`` as one factored fraction (for display)."""
    stand_ins = sp.symbols(f"_e0:{len(exps)}", positive=True)
    forward = dict(zip(exps, stand_ins))
    backward = dict(zip(stand_ins, exps))
    return sp.factor(sp.cancel(_split_exponentials(expr).subs(forward))).subs(backward)


# ----------------------------------------------------------------------------------------------
# Softmax and its Jacobian
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SoftmaxSymbolic:
    """Symbols ``z_1..z_K``, the softmax expressions in them, and stand-in symbols ``p_1..p_K``.

    Attributes:
        K: number of classes.
        z: the logit symbols ``(z_1, ..., z_K)`` (real).
        p: (K, 1) matrix with ``p[i] = exp(z_i) / sum_k exp(z_k)``.
        p_symbols: symbols ``(p_1, ..., p_K)`` (positive) that stand for the entries of ``p``.
    """

    K: int
    z: tuple[sp.Symbol, ...]
    p: sp.Matrix
    p_symbols: tuple[sp.Symbol, ...]

    def in_z(self, expr: sp.Expr | sp.MatrixBase) -> sp.Expr | sp.MatrixBase:
        """Replace the stand-ins ``p_i`` in ``expr`` by ``softmax(z)_i``."""
        return expr.subs(dict(zip(self.p_symbols, self.p)))


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
        exp(z_1)/(exp(z_1) + exp(z_2))

    Derived in: book/01-softmax.md, §Definition.
    """
    K = _check_int(K, "K", 2, _MAX_K)
    z = sp.symbols(f"z_1:{K + 1}", real=True)
    denominator = sp.Add(*[sp.exp(zi) for zi in z])
    p = sp.Matrix(K, 1, [sp.exp(zi) / denominator for zi in z])
    p_symbols = sp.symbols(f"p_1:{K + 1}", positive=True)
    return SoftmaxSymbolic(K=K, z=tuple(z), p=p, p_symbols=tuple(p_symbols))


def _covariance_pattern(p: Sequence[sp.Expr]) -> sp.Matrix:
    """``diag(p) - p p^T`` as a SymPy matrix."""
    column = sp.Matrix(len(p), 1, list(p))
    return sp.diag(*p) - column * column.T


def _evaluate(matrix: sp.MatrixBase, symbols: Sequence[sp.Symbol], values: Any, name: str,
              digits: int = 30) -> torch.Tensor:
    """Evaluate ``matrix`` at ``symbols = values`` with ``digits`` significant digits.

    Returns a float64 tensor on the device of ``values`` (CPU for lists/arrays). Evaluation is in
    SymPy's arbitrary precision, so large logits do not overflow.
    """
    device = values.device if isinstance(values, torch.Tensor) else torch.device("cpu")
    flat = torch.as_tensor(values, dtype=torch.float64).detach().reshape(-1).cpu()
    if flat.numel() != len(symbols):
        raise ValueError(f"{name}: expected {len(symbols)} values, got {flat.numel()}")
    if not bool(torch.isfinite(flat).all()):
        raise ValueError(f"{name}: expected finite values, got {flat.tolist()}")
    point = {s: sp.Float(repr(float(v)), digits) for s, v in zip(symbols, flat.tolist())}
    numeric = matrix.subs(point).evalf(digits)
    rows = [[float(numeric[i, j]) for j in range(numeric.cols)] for i in range(numeric.rows)]
    return torch.tensor(rows, dtype=torch.float64, device=device)


@dataclass(frozen=True)
class SymbolicJacobian:
    """The softmax Jacobian ``J[i, j] = d p_i / d z_j``, derived by SymPy.

    Attributes:
        K: number of classes.
        z: logit symbols ``(z_1, ..., z_K)``.
        p: (K, 1) softmax expressions in ``z``.
        jacobian: (K, K) matrix of derivatives in ``z``, each entry one factored fraction.
        p_symbols: stand-ins ``(p_1, ..., p_K)``.
        pattern: (K, K) matrix ``diag(p) - p p^T`` in the stand-ins, i.e. ``p_i (delta_ij - p_j)``.
        holds: SymPy's verdict that ``jacobian == pattern`` with ``p_i := softmax(z)_i``.
    """

    K: int
    z: tuple[sp.Symbol, ...]
    p: sp.Matrix
    jacobian: sp.Matrix
    p_symbols: tuple[sp.Symbol, ...]
    pattern: sp.Matrix
    holds: bool

    def evaluate(self, z: Any) -> torch.Tensor:
        """The Jacobian at the logits ``z`` (K,), to 30 digits, as a float64 (K, K) tensor."""
        return _evaluate(self.jacobian, self.z, z, "z")


def _softmax_jacobian(K: int, tidy: bool) -> SymbolicJacobian:
    s = softmax_symbolic(K)
    raw = s.p.jacobian(sp.Matrix(s.z))
    pattern = _covariance_pattern(s.p_symbols)
    holds = is_zero(raw - s.in_z(pattern), s.z)
    exps = [sp.exp(zi) for zi in s.z]
    jacobian = raw.applyfunc(lambda e: _tidy(e, exps)) if tidy else raw
    return SymbolicJacobian(K=s.K, z=s.z, p=s.p, jacobian=jacobian, p_symbols=s.p_symbols,
                            pattern=pattern, holds=holds)


def softmax_jacobian_symbolic(K: int) -> SymbolicJacobian:
    """Differentiate softmax symbolically: ``d p_i / d z_j = p_i (delta_ij - p_j)``.

    In matrix form ``J = diag(p) - p p^T``. SymPy differentiates ``exp(z_i) / sum_k exp(z_k)``
    and decides that the result equals the pattern (field ``holds``).

    Args:
        K: number of classes, ``2 <= K <= 12`` (about 0.1 s for K = 6).

    Returns:
        A :class:`SymbolicJacobian`: ``jacobian`` (K, K) in the logits, ``pattern`` (K, K) in the
        stand-ins ``p_1..p_K``, and ``holds``.

    Example:
        >>> J = softmax_jacobian_symbolic(3)
        >>> J.holds, J.pattern[0, 1]
        (True, -p_1*p_2)

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
    if isinstance(Ks, (str, bytes)) or not isinstance(Ks, Iterable):
        raise TypeError(f"Ks: expected an iterable of ints, got {type(Ks).__name__}")
    checked = [_check_int(K, "Ks", 2, _MAX_K) for K in Ks]
    if not checked:
        raise ValueError("Ks: expected at least one K, got an empty iterable")
    return {K: _softmax_jacobian(K, tidy=False).holds for K in checked}


# ----------------------------------------------------------------------------------------------
# Cross-entropy: loss identity, gradient, Hessian
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SymbolicCEHessian:
    """Cross-entropy ``CE(z, y) = logsumexp(z) - y^T z``, its gradient and Hessian in ``z``.

    Attributes:
        K: number of classes.
        z: logit symbols ``(z_1, ..., z_K)``.
        y: target symbols ``(y_1, ..., y_K)`` (any real target vector; a distribution in the book).
        p: (K, 1) softmax expressions in ``z``.
        p_symbols: stand-ins ``(p_1, ..., p_K)``.
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

    K: int
    z: tuple[sp.Symbol, ...]
    y: tuple[sp.Symbol, ...]
    p: sp.Matrix
    p_symbols: tuple[sp.Symbol, ...]
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

    def evaluate(self, z: Any) -> torch.Tensor:
        """The Hessian at the logits ``z`` (K,), to 30 digits, as a float64 (K, K) tensor."""
        return _evaluate(self.hessian, self.z, z, "z")


def ce_hessian_symbolic(K: int) -> SymbolicCEHessian:
    """Hessian of ``CE(z, y) = logsumexp(z) - y^T z`` in ``z``: ``diag(p) - p p^T``, free of ``y``.

    SymPy also decides that ``-sum_k y_k log p_k`` equals ``logsumexp(z) - y^T z`` on the
    simplex (``y_K = 1 - sum_{k<K} y_k``) and that the gradient is ``p - y``.

    Args:
        K: number of classes, ``2 <= K <= 12`` (about 0.2 s for K = 6).

    Returns:
        A :class:`SymbolicCEHessian`; ``.holds`` is the conjunction of its four verdicts.

    Example:
        >>> H = ce_hessian_symbolic(3)
        >>> H.hessian_holds, H.independent_of_y, H.pattern[0, 0]
        (True, True, -p_1**2 + p_1)

    Derived in: book/02-cross-entropy.md, §The Hessian.
    """
    s = softmax_symbolic(K)
    y = sp.symbols(f"y_1:{K + 1}", real=True)
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
        K=s.K, z=s.z, y=tuple(y), p=s.p, p_symbols=s.p_symbols, loss=loss,
        gradient=raw_gradient,
        gradient_pattern=gradient_pattern,
        hessian=raw_hessian.applyfunc(lambda e: _tidy(e, exps)), pattern=pattern,
        loss_identity_holds=loss_identity_holds, gradient_holds=gradient_holds,
        hessian_holds=hessian_holds, independent_of_y=independent_of_y)


# ----------------------------------------------------------------------------------------------
# The sum-of-squares certificate
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PSDCertificate:
    """The identity ``v^T (diag(p) - p p^T) v = 1/2 sum_i sum_j p_i p_j (v_i - v_j)^2`` on the simplex.

    Attributes:
        K: number of classes.
        p: symbols ``(p_1, ..., p_K)`` (positive).
        v: symbols ``(v_1, ..., v_K)`` (real), the direction.
        H: (K, K) matrix ``diag(p) - p p^T``.
        lhs: ``v^T H v``, expanded: ``sum_i p_i v_i^2 - (sum_i p_i v_i)^2``.
        rhs: the sum of squares written over pairs, ``sum_{i<j} p_i p_j (v_i - v_j)^2`` (equal
            to the double sum: its (i, j) and (j, i) terms agree and its i = j terms vanish).
        rhs_double_sum: ``1/2 sum_i sum_j p_i p_j (v_i - v_j)^2`` as literally stated.
        simplex: the substitution ``{p_K: 1 - sum_{i<K} p_i}`` that puts ``p`` on the simplex.
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
    semidefinite for every ``p`` on the simplex. SymPy expands both sides with ``p_K = 1 -
    sum_{i<K} p_i`` and decides that the difference is exactly 0.

    Args:
        K: number of classes, ``2 <= K <= 12`` (well under a second for K <= 6).

    Returns:
        A :class:`PSDCertificate` with ``lhs``, ``rhs``, ``difference`` and ``holds``.

    Example:
        >>> c = psd_certificate(2)
        >>> c.holds, c.rhs
        (True, p_1*p_2*(v_1 - v_2)**2)

    Derived in: book/03-convexity-logits.md, §A sum-of-squares certificate.
    """
    K = _check_int(K, "K", 2, _MAX_K)
    p = sp.symbols(f"p_1:{K + 1}", positive=True)
    v = sp.symbols(f"v_1:{K + 1}", real=True)
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


# ----------------------------------------------------------------------------------------------
# The linear softmax classifier: Hessian = (1/N) sum_n H_n kron x~_n x~_n^T
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SymbolicLinearHessian:
    """Hessian of the mean cross-entropy of a linear softmax classifier, symbolic, small case.

    Parameter ordering (as in ``sce_lib.linear_ce_hessian``): class-major,
    ``theta = [w_11, ..., w_1d, b_1, w_21, ..., w_2d, b_2, ..., b_K]``, i.e.
    ``torch.cat([W, b[:, None]], dim=1).reshape(-1)``.

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
    d = _check_int(d, "d", 1, _MAX_LINEAR_PARAMS)
    K = _check_int(K, "K", 2, _MAX_K)
    N = _check_int(N, "N", 1, 2)
    if K * (d + 1) > _MAX_LINEAR_PARAMS:
        raise ValueError(f"d, K: expected K*(d+1) <= {_MAX_LINEAR_PARAMS} parameters, "
                         f"got K*(d+1) = {K * (d + 1)} (d={d}, K={K})")
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"w_{k + 1}{j + 1}", real=True))
    b = sp.Matrix(K, 1, lambda k, _: sp.Symbol(f"b_{k + 1}", real=True))
    X = sp.Matrix(N, d, lambda n, j: sp.Symbol(f"x_{n + 1}{j + 1}", real=True))
    Y = sp.Matrix(N, K, lambda n, k: sp.Symbol(f"y_{n + 1}{k + 1}", real=True))
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
