"""The reporting tools of the separability chapter: the U-statistic standard error, the margin-matrix
reading of M, its bounds, and the three-way attribution (sce_lib.separability.pairs / .attribution).

References: brute-force loops over all pairs, the exact estimator, Monte Carlo over independent data
sets, and the O2 model's closed forms. Tolerances are stated where they are used.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from sce_lib.separability import (bound_closed_form, bound_threshold, margin_from_loss, plug_in_probability,
                                  separation_probability)
from sce_lib.separability.attribution import (FACTORS, coalition_values, exponential_quantile_losses, shapley,
                                              top_share)
from sce_lib.separability.pairs import margin_vectors, separation_with_stderr


def _blobs(n: int, K: int, gen: torch.Generator, spread: float = 1.0, d: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.arange(n) % K
    centres = 2.0 * torch.randn(K, d, generator=gen, dtype=torch.float64)
    return centres[y] + spread * torch.randn(n, d, generator=gen, dtype=torch.float64), y


def _brute(Z: np.ndarray, y: np.ndarray, dist) -> float:
    """P(inter > intra), balanced weighting, ordered inter pairs, by explicit loops."""
    classes = sorted(set(y.tolist()))
    K = len(classes)
    intra, inter = [], []
    for c in classes:
        idx = np.flatnonzero(y == c)
        n = idx.size
        for i, j in itertools.combinations(idx, 2):
            intra.append((dist(Z[i], Z[j], c), 1.0 / (K * n * (n - 1) / 2)))
        for b in classes:
            if b == c:
                continue
            jdx = np.flatnonzero(y == b)
            for i in idx:
                for j in jdx:
                    inter.append((dist(Z[i], Z[j], c), 1.0 / (K * (K - 1) * n * jdx.size)))
    return sum(wp * wq for dp, wp in intra for dq, wq in inter if dq > dp)


def test_plain_reading_equals_the_exact_estimator() -> None:
    gen = torch.Generator().manual_seed(0)
    for K, n in [(2, 40), (3, 61), (5, 100)]:
        X, y = _blobs(n, K, gen)
        got = separation_with_stderr(X, y)
        # float64 weights against exact rationals: agreement to rounding of ~1e5 terms
        assert abs(got.probability - separation_probability(X, y)) < 1e-12
        assert 0 < got.stderr < 0.2
    # ties (integer features) count as failures in both
    X = torch.randint(0, 3, (40, 2), generator=gen).double()
    y = torch.arange(40) % 3
    assert abs(separation_with_stderr(X, y).probability - separation_probability(X, y)) < 1e-12


def test_margin_reading_against_brute_force() -> None:
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(18, 4, generator=gen, dtype=torch.float64)
    y = torch.arange(18) % 4
    Z, Y = z.numpy(), y.numpy()

    def dist(a, b, c):
        keep = [k for k in range(4) if k != c]
        return float(np.linalg.norm((a[c] - a[keep]) - (b[c] - b[keep])))

    assert abs(separation_with_stderr(z, y, reading="margin").probability - _brute(Z, Y, dist)) < 1e-12
    plain = lambda a, b, c: float(np.linalg.norm(a - b))
    assert abs(separation_with_stderr(z, y).probability - _brute(Z, Y, plain)) < 1e-12


def test_margin_vectors_under_o2_give_the_exercise_values() -> None:
    # Under O2 a sample of class y with margin D has z = (z_y - D) 1 + D e_y; the margin reading then
    # gives (K-1)(Di - Dj)^2 intra and (K-2)Dk^2 + (Dk + Dl)^2 inter (exercise "The other reading").
    K = 6

    def logits(D: float, y: int, zy: float) -> torch.Tensor:
        z = torch.full((1, K), zy - D, dtype=torch.float64)
        z[0, y] = zy
        return z

    Di, Dj, Dk, Dl = 2.5, 0.7, 3.1, 1.9
    a, b = margin_vectors(logits(Di, 1, 0.3), 1), margin_vectors(logits(Dj, 1, -2.0), 1)
    assert math.isclose(float(((a - b) ** 2).sum()), (K - 1) * (Di - Dj) ** 2, rel_tol=1e-12)
    a, b = margin_vectors(logits(Dk, 1, 0.3), 1), margin_vectors(logits(Dl, 4, 5.0), 1)
    assert math.isclose(float(((a - b) ** 2).sum()), (K - 2) * Dk**2 + (Dk + Dl) ** 2, rel_tol=1e-12)


def test_stderr_matches_the_spread_over_independent_samples() -> None:
    # 300 independent data sets of 90 points in 3 overlapping classes: the standard deviation of the
    # exact probability over data sets against the mean first-order standard error. With 300 sets the
    # sd is known to about 4 %; the first-order (infinitesimal jackknife) estimate is biased low by
    # O(1/N). Both readings.
    gen = torch.Generator().manual_seed(2)
    centres = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0], [0.0, 1.5, 0.0]], dtype=torch.float64)
    for reading in ("plain", "margin"):
        P, se = [], []
        for _ in range(300):
            y = torch.randint(0, 3, (90,), generator=gen)
            X = centres[y] + torch.randn(90, 3, generator=gen, dtype=torch.float64)
            out = separation_with_stderr(X, y, reading=reading)
            P.append(out.probability)
            se.append(out.stderr)
        ratio = float(np.mean(se) / np.std(P, ddof=1))
        assert 0.8 < ratio < 1.2, (reading, ratio)


def test_margin_bounds_are_bounds_of_the_margin_model() -> None:
    # Monte Carlo of the O1-A3 model under the margin reading: intra (K-1)(Di-Dj)^2, inter
    # (K-2)Dk^2 + (Dk+Dl)^2 (the first member's matrix). B_C <= B_T <= P, 4 standard errors.
    rng = np.random.default_rng(3)
    for K, L in [(3, 0.3), (10, 0.05), (10, 0.5)]:
        D = margin_from_loss(rng.exponential(L, (4, 400_000)), K)
        hit = (K - 2) * D[2] ** 2 + (D[2] + D[3]) ** 2 > (K - 1) * (D[0] - D[1]) ** 2
        p, se = hit.mean(), hit.std() / math.sqrt(hit.size)
        bc, bt = bound_closed_form(L, K, reading="margin"), bound_threshold(L, K, reading="margin")
        assert 0 < bc <= bt <= p + 4 * se, (K, L, bc, bt, p)
        assert bt > bc + 1e-3          # the exact intra law is sharper than Chebyshev here
    # the readings coincide for K = 2, and differ for K = 10 (2K/(K+2) > 1: a smaller bracket)
    assert bound_closed_form(0.1, 2, reading="margin") == bound_closed_form(0.1, 2)
    assert abs(bound_threshold(0.1, 2, reading="margin") - bound_threshold(0.1, 2)) < 1e-10
    assert bound_closed_form(0.1, 10, reading="margin") < bound_closed_form(0.1, 10) - 1e-3


def _network_like(gen: torch.Generator, n: int, K: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    y = torch.arange(n) % K
    z = torch.randn(n, K, generator=gen, dtype=torch.float64)
    z[torch.arange(n), y] += 0.5 + y.double()           # the class changes the margins: A3 fails
    ell = -torch.log_softmax(z, dim=1)[torch.arange(n), y]
    return z, y, ell


def test_coalitions_reproduce_the_measurement_and_the_plug_in() -> None:
    gen = torch.Generator().manual_seed(4)
    z, y, ell = _network_like(gen, 120, 4)
    v = coalition_values(z, y, ell, 4, 0.97, generator=torch.Generator().manual_seed(0))
    assert len(v) == 8 and v[frozenset()] == 0.97
    measured = separation_probability(z - z.mean(dim=1, keepdim=True), y)
    # residual + model vector = C z up to rounding (1e-15 relative): only exact ties could flip
    assert abs(v[frozenset(FACTORS)] - measured) < 1e-6
    assert abs(v[frozenset({"O1", "A3"})] - plug_in_probability(ell, y, 4)) < 1e-12
    # the shuffle matters when the class drives the loss
    assert abs(v[frozenset({"O1"})] - v[frozenset({"O1", "A3"})]) > 1e-3
    # another generator, another permutation: only the A3-off coalitions change
    w = coalition_values(z, y, ell, 4, 0.97, generator=torch.Generator().manual_seed(1))
    assert all(w[S] == v[S] for S in v if "A3" in S)


def test_o2_is_inert_for_two_classes() -> None:
    gen = torch.Generator().manual_seed(5)
    z, y, ell = _network_like(gen, 80, 2)
    v = coalition_values(z, y, ell, 2, 0.9, generator=torch.Generator().manual_seed(0))
    for S in ({"O1"}, {"A3"}, {"O1", "A3"}):         # (v of the empty set is the P_model supplied)
        assert abs(v[frozenset(S) | {"O2"}] - v[frozenset(S)]) < 1e-6, S


def test_shapley_orders_and_average() -> None:
    rng = np.random.default_rng(6)
    v = {frozenset(S): float(rng.random()) for r in range(4) for S in itertools.combinations(FACTORS, r)}
    orders, sh = shapley(v)
    total = v[frozenset(FACTORS)] - v[frozenset()]
    assert len(orders) == 6 and all(abs(sum(c.values()) - total) < 1e-12 for c in orders.values())
    assert abs(sum(sh.values()) - total) < 1e-12
    # the closed form for three players: phi_i = sum_S |S|!(2-|S|)!/3! (v(S+i) - v(S))
    for f in FACTORS:
        others = [g for g in FACTORS if g != f]
        want = sum(math.factorial(r) * math.factorial(2 - r) / 6 * (v[frozenset(S) | {f}] - v[frozenset(S)])
                   for r in range(3) for S in itertools.combinations(others, r))
        assert abs(sh[f] - want) < 1e-12
    # a dummy factor (never changes v) gets 0 in every order
    dummy = {S: float(len(S - {"A3"})) for S in v}
    orders, sh = shapley(dummy)
    assert sh["A3"] == 0 and all(c["A3"] == 0 for c in orders.values())
    with pytest.raises(ValueError, match="values: expected all 8 coalitions"):
        shapley({frozenset(): 0.0})


def test_exponential_quantile_losses_and_top_share() -> None:
    rng = np.random.default_rng(7)
    ell = rng.gamma(0.3, 1.0, 5000)               # far from exponential
    q = exponential_quantile_losses(ell)
    assert np.array_equal(np.argsort(q, kind="stable"), np.argsort(ell, kind="stable"))   # ranks kept
    # the (i - 1/2)/N quantiles of Exp(L) have mean L up to O(log N / N)
    assert abs(q.mean() / ell.mean() - 1) < 2e-3
    # top 1 % share of Exp(1): 0.01 (1 + log 100) = 0.0561 in the limit; N = 2e5: sd about 0.001
    assert abs(top_share(rng.exponential(1.0, 200_000)) - 0.01 * (1 + math.log(100))) < 0.004
    assert top_share(np.r_[np.zeros(99), 1.0]) == 1.0


def test_bad_input() -> None:
    z = torch.randn(6, 3, dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="reading"):
        separation_with_stderr(z, y, reading="diagonal")
    with pytest.raises(ValueError, match=r"labels: expected class indices in \[0, 2\]"):
        separation_with_stderr(z, torch.tensor([0, 0, 1, 1, 5, 5]), reading="margin")
    with pytest.raises(ValueError, match="reading"):
        bound_closed_form(0.1, 10, reading="raw")
    ell = torch.ones(6)
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="p_model_value"):
        coalition_values(z, y, ell, 3, 1.5, generator=gen)
    with pytest.raises(TypeError, match="generator: expected a torch.Generator"):
        coalition_values(z, y, ell, 3, 0.5, generator=0)
    with pytest.raises(ValueError, match=r"losses: expected shape \(N,\) = \(6,\)"):
        coalition_values(z, y, torch.ones(5), 3, 0.5, generator=gen)
    with pytest.raises(ValueError, match="logits: expected K = 4 columns"):
        coalition_values(z, y, ell, 4, 0.5, generator=gen)
    with pytest.raises(ValueError, match="fraction"):
        top_share([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="losses"):
        exponential_quantile_losses([0.0, 0.0])
