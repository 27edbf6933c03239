"""The book's reconstruction of the separability bound (sce_lib.separability.theory / .bounds).

References used: the K = 10 table of paper-digest §4.5 (computed by the digest's authors with a grid
supremum and Monte Carlo, not taken from the paper), Monte Carlo of the model itself, scipy/mpmath
quadrature, and fine grids for the suprema. Tolerances are stated where they are used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.special import digamma

from sce_lib.separability import (
    bound_closed_form,
    bound_threshold,
    inter_value,
    intra_cdf,
    intra_value,
    margin_cdf,
    margin_from_loss,
    margin_mean,
    margin_pdf,
    margin_sf,
    margin_var,
    p_model,
    p_model_exact,
    valid_loss_range,
)
from sce_lib.separability.bounds import _tail_D_quad

# paper-digest §4.5, K = 10: L, Δ(L), EΔ, VarΔ, E[A], E[E], P_model (MC, 1e6 draws), B_T, B_C, s*
TABLE = [
    (0.01, 6.797, 7.375, 1.655, 2.979, 111.75, 0.9999, 0.9975, 0.9353, 4.96),
    (0.05, 5.168, 5.745, 1.696, 3.053, 69.06, 0.9992, 0.9786, 0.8613, 3.53),
    (0.1, 4.449, 5.026, 1.750, 3.150, 53.68, 0.9976, 0.9444, 0.7850, 2.97),
    (0.2, 3.705, 4.281, 1.866, 3.359, 40.01, 0.9913, 0.8563, 0.6422, 2.51),
    (0.5, 2.630, 3.197, 2.290, 4.122, 24.57, 0.9418, 0.5758, 0.3224, 2.20),
    (1.0, 1.656, 2.197, 3.290, 5.922, 15.58, 0.7987, 0.2900, 0.0991, 2.32),
]
K10 = 10


def _half_unit(printed: float, decimals: int) -> float:
    # a value printed with `decimals` decimals is within half a unit of its last digit (+ float slack)
    return 0.5 * 10.0**-decimals + 1e-12


@pytest.mark.parametrize("row", TABLE, ids=[f"L={r[0]}" for r in TABLE])
def test_reference_table_moments(row) -> None:
    L, delta, mean, var, EA, EE = row[:6]
    m, v = margin_mean(L, K10), margin_var(L)
    assert abs(margin_from_loss(L, K10) - delta) <= _half_unit(delta, 3)
    assert abs(m - mean) <= _half_unit(mean, 3)
    assert abs(v - var) <= _half_unit(var, 3)
    EA_ours = 2 * (K10 - 1) / K10 * v  # Prop. 2 in expectation
    assert abs(EA_ours - EA) <= _half_unit(EA, 3)
    assert abs(EA_ours + 2 * m**2 - EE) <= _half_unit(EE, 2)


@pytest.mark.parametrize("row", TABLE, ids=[f"L={r[0]}" for r in TABLE])
def test_reference_table_closed_form_bound_and_maximiser(row) -> None:
    L, bc, s_star = row[0], row[8], row[9]
    b, s = bound_closed_form(L, K10, return_argmax=True)
    assert abs(b - bc) <= _half_unit(bc, 4)
    assert abs(s - s_star) <= _half_unit(s_star, 2)


@pytest.mark.parametrize("row", TABLE, ids=[f"L={r[0]}" for r in TABLE])
def test_reference_table_threshold_bound(row) -> None:
    # The digest's B_T is a supremum over a grid of s, so it can only be *below* the true one; ours is
    # up to 1.1e-4 above it at L = 0.05, 0.1, 1.0 (i.e. one unit of the 4th decimal), and
    # test_threshold_bound_against_mpmath certifies ours independently. So: at least the printed value
    # minus half a unit, at most one unit and a half above it.
    L, bt = row[0], row[7]
    b = bound_threshold(L, K10)
    assert bt - _half_unit(bt, 4) <= b <= bt + 1.5e-4


def test_reference_table_model_probability() -> None:
    # The digest's P_model is a Monte Carlo of 1e6 draws: its error is sqrt(p(1-p)/1e6) (<= 4.1e-4 here);
    # ours by quadrature is accurate to ~1e-5 (see test_p_model_exact_converges). Allow 4 of their SE
    # plus the rounding of the print; and our own Monte Carlo must agree with our quadrature within 4 SE.
    Ls = np.array([r[0] for r in TABLE])
    exact = p_model_exact(Ls, K10, h=0.2)
    mc = p_model(Ls, K10, n=400_000, seed=3)
    for (row, pe, est, se) in zip(TABLE, exact, mc.estimate, mc.stderr):
        printed = row[6]
        se_digest = math.sqrt(printed * (1 - printed) / 1e6)
        assert abs(pe - printed) <= 4 * se_digest + _half_unit(printed, 4) + 2e-5
        assert abs(est - pe) <= 4 * se + 2e-5


def test_threshold_bound_against_mpmath() -> None:
    # G(r) = P(Δ1 - Δ2 > r) computed independently: x-space integral of (1 - F(x + r)) f(x) in mpmath
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    L, K = 0.1, 10
    b, s = bound_threshold(L, K, return_argmax=True)
    r = mp.mpf(s) * mp.sqrt(mp.mpf(2 * K) / (K - 1))
    a = 1 / mp.mpf(L)
    F = lambda x: (1 + (K - 1) * mp.exp(-x)) ** (-a)  # noqa: E731
    f = lambda x: (K - 1) * mp.exp(-x) * a * (1 + (K - 1) * mp.exp(-x)) ** (-a - 1)  # noqa: E731
    G = mp.quad(lambda x: (1 - F(x + r)) * f(x), [-mp.inf, -10, 0, 2, 5, 10, 20, mp.inf])
    T = 1 - F(mp.mpf(s))
    assert abs(float(G) - _tail_D_quad(float(r), L)) < 1e-14
    assert abs(float(T**2 * (1 - 2 * G)) - b) < 1e-13


# ---------------------------------------------------------------------------------------- the suprema
@pytest.mark.parametrize("K,frac", [(2, 0.05), (2, 0.9), (10, 0.004), (10, 0.5), (100, 0.3), (100, 0.99)])
def test_closed_form_supremum_is_global(K, frac) -> None:
    # the digest's method: a fine grid of s (spacing 5e-4 on [1e-3, 60]). The maximiser can only be
    # above the grid maximum, by at most the curvature x spacing^2 (< 1e-6 here), never below it.
    L = frac * valid_loss_range(K)
    b, s = bound_closed_form(L, K, return_argmax=True)
    grid = np.linspace(1e-3, 60, 120_001)
    c = (K - 1) * margin_var(L) / K
    obj = margin_sf(grid, L, K) ** 2 * np.clip(1 - c / grid**2, 0, None)
    assert -1e-15 <= b - obj.max() <= 1e-6
    assert abs(s - grid[obj.argmax()]) <= 1e-3 + 5e-4


@pytest.mark.parametrize("K,L", [(2, 0.3), (10, 0.1), (10, 1.5), (100, 2.0)])
def test_threshold_supremum_is_global(K, L) -> None:
    b, s = bound_threshold(L, K, return_argmax=True)
    scale = math.sqrt(2 * K / (K - 1))
    grid = np.concatenate([np.linspace(0.05, 3 * s + 5, 60), s + np.linspace(-0.02, 0.02, 9)])
    obj = np.array([margin_sf(x, L, K) ** 2 * (1 - 2 * _tail_D_quad(x * scale, L)) for x in grid])
    assert obj.max() <= b + 1e-12
    assert b - obj.max() <= 1e-6  # the dense points around s* come within curvature x 0.005^2


# ---------------------------------------------------------------------------------------- the bounds
@pytest.mark.parametrize("K", [2, 3, 10, 100])
def test_bounds_are_ordered_below_the_model(K) -> None:
    Ls = np.array([0.02, 0.2, 0.5, 0.8, 0.97]) * valid_loss_range(K)
    bc, bt = bound_closed_form(Ls, K), bound_threshold(Ls, K)
    mc = p_model(Ls, K, n=200_000, seed=1)
    assert np.all(bc <= bt)
    # B_T is a lower bound of P_model: below the Monte Carlo by more than its noise would allow is a failure
    assert np.all(bt <= mc.estimate + 4 * mc.stderr + 1e-6)
    assert np.all(bc >= 0) and np.all(bt <= 1)


@pytest.mark.parametrize("K", [2, 10])
def test_bounds_strictly_decrease_in_L(K) -> None:
    Ls = np.linspace(0.001, 0.99, 40) * valid_loss_range(K)
    assert np.all(np.diff(bound_closed_form(Ls, K)) < 0)
    assert np.all(np.diff(bound_threshold(Ls, K)) < 0)


@pytest.mark.parametrize("K", [2, 10, 100])
def test_bounds_tend_to_one_as_L_to_zero(K) -> None:
    # The proof's choice s = ½ log(1/L) gives 1 - B_C <= 2 P(Δ <= s) + c / s², which -> 0.
    Ls = 10.0 ** -np.arange(2, 13)
    bc = bound_closed_form(Ls, K)
    s = 0.5 * np.log(1 / Ls)
    c = (K - 1) * margin_var(Ls) / K
    assert np.all(1 - bc <= 2 * margin_cdf(s, Ls, K) + c / s**2 + 1e-12)
    assert bc[-1] > 0.97 and np.all(np.diff(bc) > 0)
    assert bound_threshold(1e-12, K) > bc[-1]


def test_valid_loss_range() -> None:
    from sce_lib.separability.bounds import _loss_zero_mean_margin as L0

    assert abs(L0(2) - 1.0) < 1e-14  # ψ(1) = -γ
    assert abs(L0(10) - 2.68) < 0.005 and abs(L0(100) - 4.89) < 0.005  # digest §4.4
    for K in (3, 10, 100):
        assert abs(margin_mean(L0(K), K)) < 1e-12
    assert valid_loss_range(2) == math.log(2) and valid_loss_range(10) == math.log(10)
    assert valid_loss_range(100) == math.log(100)  # log 100 = 4.605 < L0(100)
    # L0(K) > log K for every K tried (EΔ(log K) = log(1 - 1/K) + π²/(6 log K) + ... > 0), so the range is log K
    for K in (2, 3, 5, 20, 1000, 10**6, 10**9):
        assert L0(K) > math.log(K) and valid_loss_range(K) == min(math.log(K), L0(K))


# ---------------------------------------------------------------------------------------- the margin
def test_lemma1_margin_gives_the_loss() -> None:
    # logits with target Δ and K - 1 equal others (O2) have cross-entropy ℓ exactly
    K = 7
    losses = np.array([1e-8, 0.01, 0.5, math.log(K), 3.0, 30.0])
    D = margin_from_loss(losses, K)
    z = torch.zeros(len(losses), K, dtype=torch.float64)
    z[:, 0] = torch.from_numpy(D)
    ce = -torch.log_softmax(z, dim=1)[:, 0].numpy()
    np.testing.assert_allclose(ce, losses, rtol=0, atol=1e-14)  # log_softmax: absolute error ~ eps
    # and relatively, through ℓ = log(1 + Σ_k e^{z_k - z_y}) = log1p((K-1) e^{-Δ}) (accurate for tiny ℓ)
    np.testing.assert_allclose(np.log1p((K - 1) * np.exp(-D)), losses, rtol=1e-13)
    assert abs(margin_from_loss(math.log(K), K)) < 1e-14 and np.all(np.diff(D) < 0)
    assert math.isfinite(margin_from_loss(800.0, K))  # e^800 overflows; the margin does not


def test_proposition2_values_from_centred_logits() -> None:
    rng = np.random.default_rng(0)
    K = 6
    d = rng.normal(size=(4, 50)) * 3
    e = np.eye(K)
    v = lambda delta, y: delta[:, None] * (e[y] - 1 / K)  # noqa: E731 (Lemma 1 + A1)
    A = np.sum((v(d[0], 2) - v(d[1], 2)) ** 2, axis=1)
    E = np.sum((v(d[2], 1) - v(d[3], 4)) ** 2, axis=1)
    np.testing.assert_allclose(intra_value(d[0], d[1], K), A, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inter_value(d[2], d[3], K), E, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("K,L", [(2, 0.3), (10, 0.1), (10, 1.0), (50, 2.0)])
def test_margin_law_against_monte_carlo(K, L) -> None:
    n = 400_000
    rng = np.random.default_rng(7)
    D = margin_from_loss(rng.exponential(L, n), K)
    m, v = D.mean(), D.var()
    se_m = math.sqrt(v / n)
    se_v = math.sqrt((np.mean((D - m) ** 4) - v**2) / n)
    assert abs(m - margin_mean(L, K)) < 4 * se_m
    assert abs(v - margin_var(L)) < 4 * se_v
    # DKW: P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) = 1e-6 for this eps
    eps = math.sqrt(math.log(2 / 1e-6) / (2 * n))
    x = np.sort(D)
    F = margin_cdf(x, L, K)
    i = np.arange(1, n + 1)
    assert max(np.max(i / n - F), np.max(F - (i - 1) / n)) < eps
    # intra CDF (Prop. 3) against the same draws paired up
    A = intra_value(D[: n // 2], D[n // 2:], K)
    for t in np.quantile(A, [0.1, 0.5, 0.9]):
        p = np.mean(A <= t)
        assert abs(intra_cdf(t, L, K) - p) < 4 * math.sqrt(p * (1 - p) / (n // 2))


@pytest.mark.parametrize("K,L", [(2, 0.5), (10, 0.05), (10, 2.0)])
def test_margin_pdf_is_the_derivative_and_integrates_to_one(K, L) -> None:
    total, err = integrate.quad(lambda s: margin_pdf(s, L, K), -np.inf, np.inf, epsabs=1e-12)
    assert abs(total - 1) < 1e-9
    s = np.linspace(-5, 15, 41)
    h = 1e-5
    fd = (margin_cdf(s + h, L, K) - margin_cdf(s - h, L, K)) / (2 * h)
    np.testing.assert_allclose(margin_pdf(s, L, K), fd, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(margin_sf(s, L, K), 1 - margin_cdf(s, L, K), atol=1e-15)
    assert margin_sf(200.0, L, K) > 0  # where 1 - F rounds to 0


def test_mean_formula_against_digamma_identity() -> None:
    # E log(1-p) for p ~ Beta(a, 1) is -γ - ψ(a + 1); EΔ = log(K-1) - L + γ + ψ(1/L + 1) = the formula
    L = np.array([0.03, 0.3, 3.0])
    np.testing.assert_allclose(margin_mean(L, 5), math.log(4) - L + np.euler_gamma + digamma(1 / L + 1), rtol=1e-13)


def test_p_model_exact_converges() -> None:
    # halving the trapezoid step changes little (measured from h = 0.2 to 0.1: 2e-8 and 6.8e-5; the
    # K = 2 kink line and a mid-range L for K = 3; (10, 0.5) gives 1.1e-6)
    for K, L, tol in [(2, 0.1, 1e-6), (3, 0.6, 1e-4)]:
        assert abs(p_model_exact(L, K, h=0.2) - p_model_exact(L, K, h=0.1)) < tol


@pytest.mark.parametrize("K,L", [(2, 0.4), (3, 1.0), (100, 3.0)])
def test_p_model_exact_against_monte_carlo(K, L) -> None:
    est, se = p_model(L, K, n=400_000, seed=11)
    assert abs(p_model_exact(L, K, h=0.2) - est) < 4 * se + 5e-5


def test_scalar_and_array_outputs() -> None:
    assert isinstance(bound_closed_form(0.1, 10), float)
    out = bound_closed_form([[0.1, 0.2]], 10)
    assert isinstance(out, np.ndarray) and out.shape == (1, 2)
    assert isinstance(margin_cdf(torch.tensor([0.0, 1.0]), 0.5, 3), np.ndarray)
    res = p_model([0.1, 0.2], 10, n=1000)
    assert res.estimate.shape == (2,) and np.all(res.stderr >= 0)
