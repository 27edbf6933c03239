"""The exact and sampled estimators of P(inter > intra), the plug-in probability and the diagnostics.

The reference is a brute-force O(n_intra · n_inter) count over explicit pairs, weighted per class and
per class pair in exact rationals, on the same computed distances (``pair_distances``): so the exact
estimator must agree with it **exactly** (``==``), ties included. The estimator's internals (look-up
table window, tiles) are shrunk with monkeypatch so that every path (window with a prefix, keys below
the window, the sorted-search fallback, many tiles) runs on small data.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from scipy import stats

from sce_lib.separability import (
    assumption_diagnostics,
    inter_value,
    intra_value,
    margin_from_loss,
    margin_law_ks,
    p_model_exact,
    pair_distances,
    plug_in_probability,
    sampled_separation_probability,
    separation_probability,
)
from sce_lib.separability import estimator


def brute_force(X: torch.Tensor, y: torch.Tensor, weighting: str = "balanced") -> float:
    """Σ_p Σ_q w_p w_q 1{d_q > d_p} over explicit pairs, in exact rationals."""
    D = pair_distances(X, X).numpy()
    y = y.numpy()
    classes = sorted(set(y.tolist()))
    K = len(classes)
    n = {c: int((y == c).sum()) for c in classes}
    iu, ju = np.triu_indices(len(y), k=1)
    d, same = D[iu, ju], y[iu] == y[ju]
    intra_d, intra_c = d[same], y[iu][same]
    inter_d, inter_a, inter_b = d[~same], y[iu][~same], y[ju][~same]
    greater = inter_d[None, :] > intra_d[:, None]  # (n_intra, n_inter)
    total = Fraction(0)
    for c in classes:
        rows = greater[intra_c == c]
        for a in classes:
            for b in classes:
                if a >= b:
                    continue
                cols = ((inter_a == a) & (inter_b == b)) | ((inter_a == b) & (inter_b == a))
                count = int(rows[:, cols].sum())
                if weighting == "balanced":
                    w = Fraction(2, K * n[c] * (n[c] - 1)) * Fraction(2, K * (K - 1) * n[a] * n[b])
                else:
                    w = Fraction(1, len(intra_d) * len(inter_d))
                total += w * count
    return float(total)


def _data(seed: int, sizes, d: int = 3, dtype=torch.float64, integer: bool = False):
    g = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.full((s,), c) for c, s in enumerate(sizes)])
    X = torch.randn(len(y), d, generator=g, dtype=torch.float64) + 0.7 * y[:, None]
    if integer:
        X = torch.round(X * 1.5)  # few values: many exactly tied distances
    perm = torch.randperm(len(y), generator=g)
    return X[perm].to(dtype), y[perm]


CASES = [
    ("balanced-f64", dict(sizes=[12, 12, 12], dtype=torch.float64)),
    ("unequal-f64", dict(sizes=[5, 9, 14, 7], dtype=torch.float64)),
    ("unequal-f32", dict(sizes=[5, 9, 14, 7], dtype=torch.float32)),
    ("ties-f32", dict(sizes=[10, 15, 10], dtype=torch.float32, integer=True)),
    ("ties-f64", dict(sizes=[10, 15, 10], dtype=torch.float64, integer=True)),
    ("two-classes", dict(sizes=[2, 3], dtype=torch.float32)),
]


@pytest.mark.parametrize("weighting", ["balanced", "pairs"])
@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] for c in CASES])
def test_exact_equals_brute_force(name, kw, weighting) -> None:
    X, y = _data(1, **kw)
    assert separation_probability(X, y, weighting=weighting) == brute_force(X, y, weighting)


def test_ties_are_failures() -> None:
    # every distance equals 1: intra and inter tie everywhere, so P = 0 (not 1/2)
    X = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2]] * 1)
    X = torch.cat([X, X + torch.tensor([10.0, 0.0])])
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    Z = torch.tensor([[0.0], [1.0], [1.0], [2.0], [2.0], [3.0]])  # intra {1,1,1}, inter {0,1,2,...}
    p = separation_probability(Z, y)
    assert p == brute_force(Z, y) and 0 < p < 1
    assert separation_probability(torch.zeros(4, 2), torch.tensor([0, 0, 1, 1])) == 0.0


@pytest.fixture
def three_threads():
    """Three intra-op threads (restored after), so that the threaded tiles run whatever the machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("window,tile,rows", [(64, 7, 1), (2**12, 50, 4), (2**22, 2**20, 256)])
@pytest.mark.parametrize("weighting", ["balanced", "pairs"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_counting_path_is_exact(monkeypatch, three_threads, window, tile, rows, weighting, dtype) -> None:
    # a window far narrower than the key range puts most intra keys below it (the sorted-search
    # fallback, window=64), or some (a prefix and inter keys below the window); tiny tiles split every
    # block, and few intra rows per block split each class into diagonal squares and the rest.
    # Near-duplicate points make keys span many binades. float64: the table over rounded keys.
    # Three threads: the tiles and the intra blocks run concurrently.
    monkeypatch.setattr(estimator, "_WINDOW", window)
    monkeypatch.setattr(estimator, "_TILE", tile)
    monkeypatch.setattr(estimator, "_INTRA_ROWS", rows)
    monkeypatch.setattr(estimator, "_LUT_MIN_KEYS", 0)
    monkeypatch.setattr(estimator, "_WINDOW_MIN", window)
    X, y = _data(5, sizes=[20, 25, 18], dtype=dtype)
    X[1] = X[0] + 1e-6  # a tiny intra distance (probably same class or not: both paths matter)
    X[7] = X[3] + 3e-5
    assert separation_probability(X, y, weighting=weighting) == brute_force(X, y, weighting)


def test_window_with_prefix_is_used(monkeypatch) -> None:
    monkeypatch.setattr(estimator, "_LUT_MIN_KEYS", 0)
    monkeypatch.setattr(estimator, "_WINDOW", 2**24)
    monkeypatch.setattr(estimator, "_WINDOW_MIN", 2**24)
    X, y = _data(2, sizes=[30, 30], dtype=torch.float32)
    X[1] = X[0] + 1e-7 * (y[1] == y[0])
    Z, starts, sizes = estimator._prepare(X, y, None)
    keys = torch.cat([estimator._intra_keys(Z[s:s + n]) for s, n in zip(starts, sizes)])
    counter = estimator._IntraCounter(keys)
    assert counter.lut is not None and counter.prefix.numel() > 0  # the path under test exists
    q = torch.cat([keys, keys - 1, keys + 1, torch.tensor([0, 2**31 - 1], dtype=torch.int32)])
    expected = int((keys[None, :] < q[:, None]).sum())
    assert counter.count_less(q) == expected
    # the estimator's table consumes its keys (bins made in place): the same counts, the keys overwritten
    consumed = keys.clone()
    assert estimator._IntraCounter(consumed, consume=True).count_less(q) == expected
    assert not torch.equal(consumed, keys)


@pytest.mark.parametrize("rows", [1, 3, 7, 64])
def test_intra_keys_are_the_upper_triangle(monkeypatch, rows) -> None:
    # the keys of all pairs i < j, each once, whatever the row blocks (diagonal squares + the rest)
    monkeypatch.setattr(estimator, "_INTRA_ROWS", rows)
    X, _ = _data(11, sizes=[23], d=4, dtype=torch.float32)
    iu, ju = torch.triu_indices(23, 23, offset=1)
    expected = pair_distances(X, X)[iu, ju].view(torch.int32)
    assert torch.equal(torch.sort(estimator._intra_keys(X)).values, torch.sort(expected).values)


def test_prefix_counts_ties_exactly(monkeypatch) -> None:
    # a table with a prefix (intra keys below the window) whose queries tie with intra keys below, at
    # and above the window: inter == intra is not counted (strictly less), as in the brute force.
    monkeypatch.setattr(estimator, "_LUT_MIN_KEYS", 0)
    monkeypatch.setattr(estimator, "_WINDOW", 2**10)
    monkeypatch.setattr(estimator, "_WINDOW_MIN", 2**10)
    g = torch.Generator().manual_seed(4)
    keys = torch.cat([torch.tensor([5, 5, 40, 700], dtype=torch.int32),  # below the window: a prefix with a tie
                      torch.randint(5000, 5900, (2000,), generator=g, dtype=torch.int32)])
    counter = estimator._IntraCounter(keys.clone())
    assert counter.lut is not None and counter.prefix.tolist() == [5, 5, 40, 700] and counter.pmax == 700
    q = torch.cat([keys, keys - 1, keys + 1, torch.tensor([0, 4, 6, 699, 701, counter.k0 - 1, counter.k0, 2**31 - 1],
                                                          dtype=torch.int32)])
    assert counter.count_less(q) == int((keys[None, :] < q[:, None]).sum())


def test_threads_are_restored(three_threads) -> None:
    # the tiles run on Python threads with one intra-op thread each; the caller's setting comes back
    X, y = _data(12, sizes=[30, 40, 35], dtype=torch.float32)
    p = separation_probability(X, y)
    assert torch.get_num_threads() == 3 and p == brute_force(X, y)
    torch.set_num_threads(1)
    assert separation_probability(X, y) == p and torch.get_num_threads() == 1


@pytest.mark.parametrize("n", [100, 5000])  # a table built by scatter-add (4n < width) and by histogram
def test_table_counts_exactly(monkeypatch, n) -> None:
    monkeypatch.setattr(estimator, "_LUT_MIN_KEYS", 0)
    g = torch.Generator().manual_seed(n)
    keys = torch.randint(1000, 3000, (n,), generator=g, dtype=torch.int32)
    counter = estimator._IntraCounter(keys)
    assert counter.lut is not None and counter.prefix.numel() == 0
    q = torch.randint(0, 4000, (3000,), generator=g, dtype=torch.int32)
    assert counter.count_less(q) == int((keys[None, :] < q[:, None]).sum())


def test_float64_table_resolves_rounding_collisions(monkeypatch) -> None:
    # float64 distances that differ by less than a float32 ulp: equal after rounding, so the table alone
    # cannot order them; the exact search must. Here intra {1, 1 + 1e-12} and inter {1 + 5e-13, ...}.
    monkeypatch.setattr(estimator, "_LUT_MIN_KEYS", 0)
    monkeypatch.setattr(estimator, "_WINDOW_MIN", 2**25)
    Z = torch.tensor([[0.0], [1.0], [3.0], [4.0 + 1e-12], [1.0 + 5e-13 + 2.0], [4.5 + 5e-13]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    counter_keys = torch.cat([estimator._intra_keys(Z[i:i + 2]) for i in (0, 2, 4)])
    counter = estimator._IntraCounter(counter_keys)
    assert counter.exact64 and counter.lut is not None
    assert separation_probability(Z, y) == brute_force(Z, y)
    for weighting in ("balanced", "pairs"):
        assert separation_probability(Z, y, weighting=weighting) == brute_force(Z, y, weighting)


def test_matrix_is_applied_first() -> None:
    X, y = _data(3, sizes=[8, 11, 9], d=4)
    M = torch.randn(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert separation_probability(X, y, matrix=M) == separation_probability(X @ M.T, y)
    assert separation_probability(X, y, matrix=M) == brute_force(X @ M.T, y)


@pytest.mark.parametrize("weighting", ["balanced", "pairs"])
def test_invariant_to_relabelling_and_permutation(weighting) -> None:
    X, y = _data(4, sizes=[9, 14, 6, 11], dtype=torch.float32)
    p = separation_probability(X, y, weighting=weighting)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))
    relabel = torch.tensor([7, 2, 40, 3])  # any distinct integers
    assert separation_probability(X[perm], y[perm], weighting=weighting) == p
    assert separation_probability(X, relabel[y], weighting=weighting) == p


def test_weightings_differ_when_classes_are_unequal() -> None:
    X, y = _data(6, sizes=[4, 30, 12])
    assert separation_probability(X, y) != separation_probability(X, y, weighting="pairs")


def test_distances_do_not_depend_on_the_block() -> None:
    X, _ = _data(7, sizes=[40, 40], d=10, dtype=torch.float32)
    full = pair_distances(X, X)
    assert torch.equal(pair_distances(X[13:29], X[50:]), full[13:29, 50:])
    # the batched per-pair form used by the sampled estimator gives the same numbers
    idx = torch.arange(80)
    assert torch.equal(pair_distances(X[:, None, :], X.flip(0)[:, None, :])[:, 0, 0], full[idx, 79 - idx])


@pytest.mark.parametrize("weighting", ["balanced", "pairs"])
def test_sampled_agrees_with_exact(weighting) -> None:
    X, y = _data(8, sizes=[15, 40, 25], dtype=torch.float32)
    exact = separation_probability(X, y, weighting=weighting)
    est, se = sampled_separation_probability(X, y, n_pairs=200_000, seed=3, weighting=weighting)
    assert abs(est - exact) < 4 * se
    again = sampled_separation_probability(X, y, n_pairs=200_000, seed=3, weighting=weighting)
    assert again.estimate == est  # seeded


def test_plug_in_equals_the_model_brute_force() -> None:
    # the plug-in compares A (Prop. 2) of intra pairs with E of inter pairs, the margins from the losses
    K = 4
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), [7, 9, 8])
    losses = rng.exponential(0.4, y.size)
    losses[0] = 0.0  # clipped to 1e-300, not an infinite margin
    D = margin_from_loss(np.maximum(losses, 1e-300), K)
    iu, ju = np.triu_indices(y.size, 1)
    same = y[iu] == y[ju]
    A = intra_value(D[iu][same], D[ju][same], K)
    E = inter_value(D[iu][~same], D[ju][~same], K)
    cls, pair = y[iu][same], np.minimum(y[iu], y[ju])[~same] * 10 + np.maximum(y[iu], y[ju])[~same]
    n = np.bincount(y)
    total = Fraction(0)
    for c in range(3):
        for ab in {1, 2, 12}:
            a, b = divmod(ab, 10)
            count = int((E[pair == ab][None, :] > A[cls == c][:, None]).sum())
            total += Fraction(count, 3 * math.comb(n[c], 2) * 3 * n[a] * n[b])
    p = plug_in_probability(losses, y, K)
    assert abs(p - float(total)) <= 1e-15  # A, E by formula vs by distances: equal unless a near-tie flips
    assert 0 < p <= 1


def test_plug_in_with_exponential_losses_is_near_the_model() -> None:
    # losses drawn from Exp(L) (O1 holds): the plug-in is a U-statistic of P_model. Its standard
    # deviation is below 2 sqrt(p(1-p)/n_per_class) = 0.011 here; allow 4 of it.
    K, L, per = 10, 0.5, 150
    y = np.repeat(np.arange(K), per)
    losses = np.random.default_rng(2).exponential(L, y.size)
    p = plug_in_probability(losses, y, K)
    pm = p_model_exact(L, K, h=0.2)
    assert abs(p - pm) < 4 * 2 * math.sqrt(pm * (1 - pm) / per)


def test_margin_law_ks_matches_scipy() -> None:
    x = np.random.default_rng(1).gamma(2.0, 0.3, 500)
    ours = margin_law_ks(x)
    ref = stats.kstest(x, "expon", args=(0, x.mean())).statistic
    assert abs(ours - ref) < 1e-14
    # exponential losses: D_n ~ 1/sqrt(n); a gamma(2) sample is far from it
    assert margin_law_ks(np.random.default_rng(2).exponential(0.7, 20_000)) < 0.02 < ours


def test_diagnostics_on_a_network_that_satisfies_O2_and_A1() -> None:
    K, N = 5, 400
    rng = np.random.default_rng(3)
    y = torch.from_numpy(rng.integers(0, K, N))
    losses = rng.exponential(0.3, N)
    D = torch.from_numpy(margin_from_loss(losses, K))
    z = D[:, None] * (torch.nn.functional.one_hot(y, K).double() - 1 / K) + torch.from_numpy(rng.normal(size=(N, 1)))
    W = torch.from_numpy(rng.normal(size=(K, 3)))
    diag = assumption_diagnostics(z, y, weight=W - W.mean(dim=0))
    np.testing.assert_allclose(diag.loss, losses.mean(), rtol=1e-12)
    assert abs(diag.ks - stats.kstest(losses, "expon", args=(0, losses.mean())).statistic) < 1e-9
    assert abs(diag.std_over_mean - losses.std() / losses.mean()) < 1e-9
    assert diag.spread_ratio < 1e-12 and diag.spread_ratio_of_means < 1e-12 and diag.ones_share < 1e-15
    assert abs(assumption_diagnostics(z, y, weight=torch.ones(K, 3)).ones_share - 1) < 1e-15
    assert assumption_diagnostics(z, y).ones_share is None


def test_diagnostics_measure_the_spread() -> None:
    # non-target logits (0, 2) around a target 5: mean margin 4, sd 1 -> ratio 1/4
    z = torch.tensor([[5.0, 0.0, 2.0], [0.0, 5.0, 2.0], [2.0, 0.0, 5.0]])
    diag = assumption_diagnostics(z, torch.tensor([0, 1, 2]))
    assert abs(diag.spread_ratio - 0.25) < 1e-15 and abs(diag.spread_ratio_of_means - 0.25) < 1e-15


@pytest.mark.gpu
def test_cpu_gpu_parity() -> None:
    X, y = _data(9, sizes=[30, 20, 25], dtype=torch.float32, integer=True)  # exact distances: no rounding
    for weighting in ("balanced", "pairs"):
        assert separation_probability(X.cuda(), y.cuda(), weighting=weighting) == \
            separation_probability(X, y, weighting=weighting)
    assert sampled_separation_probability(X.cuda(), y.cuda()) == sampled_separation_probability(X, y)
