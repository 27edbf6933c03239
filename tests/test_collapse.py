"""Tests of sce_lib.separability.collapse: collapse_metrics and class_separation against independent,
literal implementations of their definitions (numpy, explicit d x d matrices, numpy.linalg.pinv, all pairs
of samples, Python loops over classes), on balanced and unbalanced classes; exact collapse; invariances;
linear time; the boundary checks.

Tolerance 1e-8 (relative): both sides compute in float64 from the same float64 data, by different
formulas (an SVD of the centred means against pinv of the d x d Sigma_B; a sum over classes of unit-vector
means against all N^2 cosines), so they agree to ~1e-13; 1e-8 leaves room for the condition of Sigma_B
and still catches any wrong factor, weight or index."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from sce_lib.separability import class_separation, collapse_metrics

RTOL = 1e-8


# ---------------------------------------------------------------- independent implementations (numpy, literal)
def ref_collapse(h: np.ndarray, y: np.ndarray, W: np.ndarray | None = None, b: np.ndarray | None = None) -> dict:
    N, d = h.shape
    K = W.shape[0] if W is not None else int(y.max()) + 1
    mu = np.stack([h[y == c].mean(axis=0) for c in range(K)])
    muG = h.mean(axis=0)
    Sw = np.zeros((d, d))
    for i in range(N):
        v = h[i] - mu[y[i]]
        Sw += np.outer(v, v)
    Sw /= N
    Mt = mu - muG
    Sb = sum(np.outer(m, m) for m in Mt) / K
    out = {"nc1": float(np.trace(Sw @ np.linalg.pinv(Sb, hermitian=True)) / K)}
    norms = np.array([np.linalg.norm(m) for m in Mt])
    out["nc2_equinorm"] = float(np.std(norms) / np.mean(norms))
    vals = [abs(Mt[c] @ Mt[e] / (norms[c] * norms[e]) + 1 / (K - 1)) for c in range(K) for e in range(K) if c != e]
    out["nc2_equiangular"] = float(np.mean(vals))
    if W is not None:
        out["nc3"] = float(np.linalg.norm(W / np.linalg.norm(W) - Mt / np.linalg.norm(Mt)))
        if b is not None:
            wrong = 0
            for i in range(N):
                dec = int(np.argmax(W @ h[i] + b))
                ncc = int(np.argmin([np.linalg.norm(h[i] - mu[c]) for c in range(K)]))
                wrong += dec != ncc
            out["nc4"] = wrong / N
    return out


def ref_separation(h: np.ndarray, y: np.ndarray) -> float:
    """Kornblith et al.'s R^2 over all pairs (m = n included), classes weighted equally."""
    classes = np.unique(y)
    K = len(classes)
    u = h / np.linalg.norm(h, axis=1, keepdims=True)
    dist = 1.0 - u @ u.T
    within = np.mean([dist[np.ix_(y == k, y == k)].mean() for k in classes])
    total = sum(dist[np.ix_(y == j, y == k)].mean() for j in classes for k in classes) / K ** 2
    return float(1.0 - within / total)


def _data(N: int, d: int, K: int, balanced: bool, seed: int, spread: float = 1.0):
    rng = np.random.default_rng(seed)
    if balanced:
        y = np.repeat(np.arange(K), N // K)
    else:  # class c has roughly (c + 1) shares, every class present
        p = np.arange(1, K + 1) / np.arange(1, K + 1).sum()
        y = np.concatenate([np.arange(K), rng.choice(K, N - K, p=p)])
    means = 3.0 * rng.standard_normal((K, d))
    h = means[y] + spread * rng.standard_normal((len(y), d)) + 0.5   # not centred: mu_G != 0
    W = rng.standard_normal((K, d))
    b = rng.standard_normal(K)
    return h, y, W, b


CASES = [(300, 5, 4, True), (301, 7, 4, False), (200, 3, 6, False), (240, 20, 10, True), (333, 20, 10, False),
         (150, 12, 2, False)]


@pytest.mark.parametrize("N,d,K,balanced", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_collapse_metrics_match_the_definitions(N, d, K, balanced, seed) -> None:
    h, y, W, b = _data(N, d, K, balanced, seed)
    got = collapse_metrics(torch.from_numpy(h), torch.from_numpy(y), W=torch.from_numpy(W), b=torch.from_numpy(b))
    ref = ref_collapse(h, y, W, b)
    assert set(got) == set(ref) == {"nc1", "nc2_equinorm", "nc2_equiangular", "nc3", "nc4"}
    for k in ref:
        assert got[k] == pytest.approx(ref[k], rel=RTOL, abs=1e-12), k
    # without W / b the keys nc3 / nc4 are absent and the rest unchanged
    assert collapse_metrics(h, y) == {k: got[k] for k in ("nc1", "nc2_equinorm", "nc2_equiangular")}
    assert set(collapse_metrics(h, y, W=W)) == {"nc1", "nc2_equinorm", "nc2_equiangular", "nc3"}


def test_nc4_is_not_trivially_zero_or_one() -> None:
    # a head built from the class means (nearest-mean rule as a linear classifier) agrees with NCC exactly,
    # a random head does not: the statistic discriminates
    h, y, _, _ = _data(400, 6, 5, False, 3)
    mu = np.stack([h[y == c].mean(0) for c in range(5)])
    W, b = mu, -0.5 * (mu ** 2).sum(1)          # argmax(mu_c.h - |mu_c|^2/2) = argmin |h - mu_c|
    assert collapse_metrics(h, y, W=W, b=b)["nc4"] == 0.0
    assert 0.2 < collapse_metrics(h, y, W=-W, b=-b)["nc4"] <= 1.0


@pytest.mark.parametrize("N,d,K,balanced", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_class_separation_matches_all_pairs(N, d, K, balanced, seed) -> None:
    h, y, _, _ = _data(N, d, K, balanced, seed, spread=3.0)
    assert class_separation(torch.from_numpy(h), torch.from_numpy(y)) == pytest.approx(ref_separation(h, y), rel=RTOL)
    # labels need not be 0..K-1: only the classes present count
    assert class_separation(h, 7 * y + 3) == pytest.approx(ref_separation(h, y), rel=RTOL)


def test_class_separation_float32_input_and_invariances() -> None:
    h, y, _, _ = _data(200, 8, 5, False, 4, spread=2.0)
    r = ref_separation(h, y)
    # invariant under positive rescaling of each sample and under a rotation; float32 input read exactly
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((8, 8)))
    scale = np.random.default_rng(1).uniform(0.1, 10.0, size=(200, 1))
    assert class_separation(scale * h @ Q, y) == pytest.approx(r, rel=1e-10)
    h32 = torch.from_numpy(h).float()
    assert class_separation(h32, y) == pytest.approx(ref_separation(h32.double().numpy(), y), rel=RTOL)


def test_exact_collapse() -> None:
    K, d = 4, 6
    rng = np.random.default_rng(0)
    # a simplex ETF in R^d: centred standard basis of R^K, embedded by an orthonormal map
    Q, _ = np.linalg.qr(rng.standard_normal((d, K)))
    M = (np.eye(K) - 1.0 / K) @ Q.T * 2.5 + 1.0          # K means, mu_G = 1 (balanced)
    y = np.repeat(np.arange(K), 5)
    h = M[y]
    W = 3.0 * (M - M.mean(0))
    b = -W @ M.mean(0) + 0.7                              # equal offsets: W mu_G + b = const
    m = collapse_metrics(h, y, W=W, b=b)
    assert m["nc1"] < 1e-25 and m["nc4"] == 0.0                # h - mu_y is a rounding error
    assert m["nc2_equinorm"] < 1e-14 and m["nc2_equiangular"] < 1e-14 and m["nc3"] < 1e-14
    assert class_separation(h - 1.0, y) == pytest.approx(1.0, abs=1e-15)


def test_nc1_grows_with_within_class_spread() -> None:
    base, y, _, _ = _data(300, 5, 3, True, 5, spread=0.0)
    noise = np.random.default_rng(9).standard_normal(base.shape)
    vals = [collapse_metrics(base + s * noise, y)["nc1"] for s in (0.1, 0.5, 2.0)]
    assert vals[0] < vals[1] < vals[2]
    # nc1 scales like s^2 for small s (Sigma_W ~ s^2, Sigma_B fixed up to O(s) changes of the means)
    assert vals[1] / vals[0] == pytest.approx(25.0, rel=0.1)


def _cpu_seconds(h: torch.Tensor, y: torch.Tensor, repeats: int = 3) -> float:
    """Best process CPU time of class_separation (CPU time, summed over threads, not wall time: other
    processes on a loaded machine do not count; `make test` runs one thread per process)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        class_separation(h, y)
        best = min(best, time.process_time() - t)
    return best


def test_class_separation_runs_in_linear_time() -> None:
    """N = 60 000, d = 256 in under a second of CPU time (measured 0.07-0.15 s), and linear in N."""
    gen = torch.Generator().manual_seed(0)
    N, d, K = 60_000, 256, 10
    y = torch.randint(0, K, (N,), generator=gen)
    h = torch.randn(N, d, generator=gen, dtype=torch.float64) + torch.randn(K, d, generator=gen, dtype=torch.float64)[y]
    assert 0.0 < class_separation(h, y) < 1.0
    full, quarter = _cpu_seconds(h, y), _cpu_seconds(h[: N // 4], y[: N // 4])
    assert full < 1.0, f"class_separation took {full:.2f} s of CPU time at N = 60 000, d = 256"
    # four times the samples, at most eight times the time (an all-pairs method would take sixteen)
    assert full < 8 * quarter + 0.05, (full, quarter)


@pytest.mark.parametrize("call,err,msg", [
    (lambda: collapse_metrics(torch.zeros(4, 2), torch.tensor([0, 0, 0, 0])), ValueError, "at least two classes"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 2, 0, 2])), ValueError, "none of class 1"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), W=torch.randn(3, 2)), ValueError,
     "none of class 2"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0, 3]), W=torch.randn(3, 2)), ValueError,
     r"class indices in \[0, 2\]"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), b=torch.zeros(2)), ValueError,
     "b: expected None when W is None"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), W=torch.randn(2, 3)), ValueError,
     r"W: expected shape \(K, d\)"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), W=torch.randn(2, 2), b=torch.zeros(3)),
     ValueError, r"b: expected shape \(2,\)"),
    (lambda: collapse_metrics(torch.ones(4, 2), torch.tensor([0, 1, 0, 1])), ValueError, "all class means equal"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0.0, 1, 0, 1])), TypeError, "y: expected an integer"),
    (lambda: collapse_metrics(torch.randn(4), torch.tensor([0, 1, 0, 1])), ValueError, r"h: expected a tensor of shape \(N, d\)"),
    (lambda: collapse_metrics(torch.tensor([[float("nan"), 0.0], [1.0, 1.0]]), torch.tensor([0, 1])), ValueError,
     "h: expected finite"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0])), ValueError, r"y: expected shape \(N,\)"),
    (lambda: collapse_metrics(torch.randn(4, 2), torch.tensor([0, -1, 0, 1])), ValueError, "y: expected class indices >= 0"),
    (lambda: class_separation(torch.tensor([[0.0, 0.0], [1.0, 1.0]]), torch.tensor([0, 1])), ValueError, "no zero row"),
    (lambda: class_separation(torch.randn(3, 2), torch.tensor([1, 1, 1])), ValueError, "at least two classes"),
    (lambda: class_separation(torch.ones(4, 2), torch.tensor([0, 1, 0, 1])), ValueError, "all rows parallel"),
    (lambda: class_separation(torch.ones(4, 2, dtype=torch.bool), torch.tensor([0, 1, 0, 1])), TypeError, "h: expected a real"),
])
def test_boundary_checks(call, err, msg) -> None:
    with pytest.raises(err, match=msg):
        call()
