"""Deciding identities in exponentials of logits, and evaluating SymPy matrices to many digits.

Every ``exp(...)`` is first written as a product of stand-ins ``e_i = exp(z_i)`` when its argument
is a sum of logits (``exp(z_0 + z_1) -> e_0 e_1``), or split into exponentials of single terms
otherwise, and each stand-in is treated as an independent variable; ``sympy.cancel`` then decides
a rational-function identity, which is sound (if it returns 0, the identity holds for every value
of the variables). Only when ``cancel`` does not return 0 is the slower ``sympy.simplify`` tried.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy as sp
import torch

from .._types import TensorLike
from .._validate.symbolic import check_point

__all__ = ["is_zero"]


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


def _covariance_pattern(p: Sequence[sp.Expr]) -> sp.Matrix:
    """``diag(p) - p p^T`` as a SymPy matrix."""
    column = sp.Matrix(len(p), 1, list(p))
    return sp.diag(*p) - column * column.T


def _evaluate(matrix: sp.MatrixBase, symbols: Sequence[sp.Symbol], values: TensorLike, name: str,
              digits: int = 30) -> torch.Tensor:
    """Evaluate ``matrix`` at ``symbols = values`` with ``digits`` significant digits.

    Returns a float64 tensor on the device of ``values`` (CPU for lists/arrays). Evaluation is in
    SymPy's arbitrary precision, so large logits do not overflow.
    """
    device = values.device if isinstance(values, torch.Tensor) else torch.device("cpu")
    flat = check_point(values, symbols, name)
    point = {s: sp.Float(repr(float(v)), digits) for s, v in zip(symbols, flat.tolist())}
    numeric = matrix.subs(point).evalf(digits)
    rows = [[float(numeric[i, j]) for j in range(numeric.cols)] for i in range(numeric.rows)]
    return torch.tensor(rows, dtype=torch.float64, device=device)
