"""Tests of sce_lib.symbolic: SymPy's derivations agree with the closed forms, the library and autograd.

Tolerances: the symbolic objects are evaluated to 30 digits (``evaluate``) or with numpy in
float64 (``lambdify``); the library and autograd compute in float64. Entries of diag(p) - p p^T lie
in [-1/4, 1/4], so an absolute tolerance of 1e-14 (about 50 ulps of 1/4) is generous for rounding
and still catches any wrong formula (which is off by O(p_i p_j), far above 1e-14 at these points).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

import sce_lib
from sce_lib.symbolic import (
    ce_hessian_symbolic,
    is_zero,
    linear_ce_hessian_symbolic,
    psd_certificate,
    softmax_jacobian_symbolic,
    softmax_symbolic,
    verify_jacobian_pattern,
)

ATOL = 1e-14


def _random_logits(gen: torch.Generator, K: int, scale: float = 3.0) -> torch.Tensor:
    return scale * torch.randn(K, generator=gen, dtype=torch.float64)


# ---------------------------------------------------------------------------------------------
# Softmax Jacobian
# ---------------------------------------------------------------------------------------------
def test_jacobian_pattern_holds_for_K_2_to_6() -> None:
    verdicts = verify_jacobian_pattern(range(2, 7))
    assert verdicts == {K: True for K in range(2, 7)}


@pytest.mark.parametrize("K", [2, 3, 4])
def test_symbolic_jacobian_matches_library_and_autograd(K: int, gen: torch.Generator) -> None:
    J = softmax_jacobian_symbolic(K)
    assert J.holds
    assert J.jacobian.shape == (K, K) and J.pattern.shape == (K, K)
    for _ in range(3):
        z = _random_logits(gen, K)
        symbolic = J.evaluate(z)
        library = sce_lib.softmax_jacobian(z)
        autograd = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), z)
        torch.testing.assert_close(symbolic, library, atol=ATOL, rtol=0)
        torch.testing.assert_close(symbolic, autograd, atol=ATOL, rtol=0)
        # the pattern in the stand-ins p_i, evaluated at p = softmax(z)
        p = sce_lib.softmax(z).tolist()
        in_p = sp.lambdify(J.p_symbols, J.pattern, "numpy")(*p)
        torch.testing.assert_close(torch.tensor(np.asarray(in_p, dtype=np.float64)), library, atol=ATOL, rtol=0)


def test_symbolic_jacobian_pattern_entries() -> None:
    J = softmax_jacobian_symbolic(3)
    p1, p2, _ = J.p_symbols
    assert sp.expand(J.pattern[0, 0] - p1 * (1 - p1)) == 0
    assert sp.expand(J.pattern[0, 1] + p1 * p2) == 0
    # the composed fields are those of the softmax the Jacobian was derived from
    assert J.z == J.softmax.z and J.K == 3 and J.p == J.softmax.p


def test_symbolic_jacobian_evaluate_is_exact_at_large_logits() -> None:
    # 30-digit evaluation: no overflow at logits far beyond float64's exp range.
    J = softmax_jacobian_symbolic(2)
    got = J.evaluate([800.0, 799.0])
    p = 1 / (1 + np.exp(-1.0))
    expected = torch.tensor([[p * (1 - p), -p * (1 - p)], [-p * (1 - p), p * (1 - p)]], dtype=torch.float64)
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=0)


def test_is_zero_rejects_false_identities() -> None:
    # The verdicts must be able to fail: a wrong sign or a missing term is not 0.
    s = softmax_symbolic(3)
    raw = s.p.jacobian(sp.Matrix(s.z))
    p = sp.Matrix(s.p_symbols)
    wrong_sign = sp.diag(*s.p_symbols) + p * p.T
    missing_diag = -p * p.T
    assert not is_zero(raw - s.in_z(wrong_sign), s.z)
    assert not is_zero(raw - s.in_z(missing_diag), s.z)
    assert is_zero(raw - s.in_z(sp.diag(*s.p_symbols) - p * p.T), s.z)
    z = sp.Symbol("z")
    assert not is_zero(sp.exp(2 * z) - sp.exp(z))


# ---------------------------------------------------------------------------------------------
# Cross-entropy: loss identity, gradient, Hessian
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [2, 3, 4])
def test_ce_hessian_symbolic_verdicts(K: int) -> None:
    H = ce_hessian_symbolic(K)
    assert H.loss_identity_holds and H.gradient_holds and H.hessian_holds and H.independent_of_y
    assert H.holds
    assert not any(H.hessian.has(yk) for yk in H.y)
    # the pattern, entry by entry: p_i (delta_ij - p_j), written out here rather than by the library
    for i in range(K):
        for j in range(K):
            want = H.p_symbols[i] * ((1 if i == j else 0) - H.p_symbols[j])
            assert sp.expand(H.pattern[i, j] - want) == 0


@pytest.mark.parametrize("K", [3, 4])
def test_symbolic_ce_derivatives_match_library_and_autograd(K: int, gen: torch.Generator) -> None:
    H = ce_hessian_symbolic(K)
    for _ in range(2):
        z = _random_logits(gen, K)
        target = torch.softmax(torch.randn(K, generator=gen, dtype=torch.float64), dim=0)
        # Hessian: symbolic (30 digits) vs library vs autograd of the library's loss
        library = sce_lib.ce_hessian(z)
        autograd = torch.autograd.functional.hessian(
            lambda t: sce_lib.cross_entropy(t[None, :], target[None, :]), z)
        torch.testing.assert_close(H.evaluate(z), library, atol=ATOL, rtol=0)
        torch.testing.assert_close(autograd, library, atol=ATOL, rtol=0)
        # gradient p - y: symbolic vs library
        point = {**dict(zip(H.z, z.tolist())), **dict(zip(H.y, target.tolist()))}
        gradient = torch.tensor([float(g) for g in H.gradient.subs(point).evalf(30)], dtype=torch.float64)
        torch.testing.assert_close(gradient, sce_lib.ce_gradient(z[None, :], target[None, :])[0], atol=ATOL, rtol=0)
        # loss: symbolic vs library
        loss = float(H.loss.subs(point).evalf(30))
        assert abs(loss - float(sce_lib.cross_entropy(z[None, :], target[None, :]))) < ATOL * 10


# ---------------------------------------------------------------------------------------------
# The sum-of-squares certificate
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [2, 3, 4, 5])
def test_psd_certificate_holds(K: int) -> None:
    c = psd_certificate(K)
    assert c.holds
    assert c.difference == 0
    # off the simplex the identity fails, by exactly (1 - sum p) * sum p_i v_i^2
    expected_off = (1 - sp.Add(*c.p)) * sp.Add(*[pi * vi**2 for pi, vi in zip(c.p, c.v)])
    assert sp.expand(c.difference_off_simplex - expected_off) == 0
    assert c.difference_off_simplex != 0
    # rhs is a sum of squares with non-negative weights: exactly the terms p_i p_j (v_i - v_j)^2, i < j
    expected_terms = {c.p[i] * c.p[j] * (c.v[i] - c.v[j]) ** 2 for i in range(K) for j in range(i + 1, K)}
    assert set(sp.Add.make_args(c.rhs)) == expected_terms


def test_psd_certificate_numerically(gen: torch.Generator) -> None:
    K = 4
    c = psd_certificate(K)
    lhs = sp.lambdify([*c.p, *c.v], c.lhs, "math")
    rhs = sp.lambdify([*c.p, *c.v], c.rhs, "math")
    for _ in range(5):
        z = _random_logits(gen, K)
        v = torch.randn(K, generator=gen, dtype=torch.float64)
        p = sce_lib.softmax(z)
        quadratic = float(v @ sce_lib.ce_hessian(z) @ v)
        args = [*p.tolist(), *v.tolist()]
        assert rhs(*args) >= 0
        assert abs(lhs(*args) - quadratic) < 1e-13
        assert abs(rhs(*args) - quadratic) < 1e-13


# ---------------------------------------------------------------------------------------------
# The linear classifier: Kronecker structure
# ---------------------------------------------------------------------------------------------
def test_linear_hessian_symbolic_small_case(gen: torch.Generator) -> None:
    h = linear_ce_hessian_symbolic(d=2, K=3, N=2)
    assert h.holds and h.independent_of_y
    assert h.hessian.shape == (9, 9)
    # class-major ordering: [w_11, w_12, b_1, w_21, ...]
    assert [str(s) for s in h.theta[:4]] == ["w_01", "w_02", "b_0", "w_11"]
    # numeric: the symbolic Hessian at random values equals sce_lib.linear_ce_hessian
    symbols = [*h.theta, *h.X]
    hessian = sp.lambdify(symbols, h.hessian, "numpy")
    for _ in range(2):
        W = torch.randn(3, 2, generator=gen, dtype=torch.float64)
        b = torch.randn(3, generator=gen, dtype=torch.float64)
        X = torch.randn(2, 2, generator=gen, dtype=torch.float64)
        y = torch.tensor([0, 2])
        theta = sce_lib.pack_theta(W, b)
        values = np.asarray(hessian(*theta.tolist(), *X.reshape(-1).tolist()), dtype=np.float64)
        torch.testing.assert_close(torch.from_numpy(values), sce_lib.linear_ce_hessian(W, b, X, y),
                                   atol=ATOL, rtol=0)


def test_linear_hessian_symbolic_detects_wrong_ordering() -> None:
    h = linear_ce_hessian_symbolic(d=1, K=2, N=1)
    assert h.holds
    # the same Kronecker factors in the other order (feature-major) is a different matrix
    assert h.kronecker_form.shape == (4, 4)
    x = sp.Matrix([*h.X.row(0), 1])
    z = h.W * h.X.row(0).T + h.b
    exps = [sp.exp(zk) for zk in z]
    p = [e / sp.Add(*exps) for e in exps]
    Hz = sp.diag(*p) - sp.Matrix(p) * sp.Matrix(p).T
    assert not is_zero(h.hessian - sp.kronecker_product(x * x.T, Hz), list(z))


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [softmax_symbolic, softmax_jacobian_symbolic, ce_hessian_symbolic, psd_certificate])
@pytest.mark.parametrize(
    ("K", "error", "message"),
    [
        (1, ValueError, r"K: expected an int >= 2 and <= 12, got 1"),
        (13, ValueError, r"K: expected an int >= 2 and <= 12, got 13"),
        (3.0, TypeError, r"K: expected an int >= 2 and <= 12, got float \(3.0\)"),
        (True, TypeError, r"K: expected an int >= 2 and <= 12, got bool"),
        ("3", TypeError, r"K: expected an int >= 2 and <= 12, got str"),
    ],
)
def test_bad_K(fn, K, error, message) -> None:
    with pytest.raises(error, match=message):
        fn(K)


def test_numpy_integers_are_ints() -> None:
    # the rule of the whole library: a numpy integer is an int
    assert softmax_symbolic(np.int64(3)).K == 3 and type(softmax_symbolic(np.int64(3)).K) is int
    assert verify_jacobian_pattern(np.arange(2, 4)) == {2: True, 3: True}


def test_bad_Ks_and_linear_sizes() -> None:
    with pytest.raises(ValueError, match="Ks: expected at least one K"):
        verify_jacobian_pattern([])
    with pytest.raises(TypeError, match="Ks: expected an iterable of ints"):
        verify_jacobian_pattern(3)
    with pytest.raises(ValueError, match=r"N: expected an int >= 1 and <= 2, got 3"):
        linear_ce_hessian_symbolic(d=2, K=3, N=3)
    with pytest.raises(ValueError, match=r"d, K: expected K\*\(d\+1\) <= 40"):
        linear_ce_hessian_symbolic(d=10, K=4, N=1)


def test_evaluate_bad_input() -> None:
    J = softmax_jacobian_symbolic(3)
    with pytest.raises(ValueError, match="z: expected 3 values, got 2"):
        J.evaluate([0.0, 1.0])
    with pytest.raises(ValueError, match=r"z: expected finite values, got NaN at index \(1,\)"):
        J.evaluate([0.0, float("nan"), 1.0])
    with pytest.raises(TypeError, match="z: expected a real floating-point tensor"):
        J.evaluate([True, False, True])
