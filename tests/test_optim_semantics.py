"""What ``converged`` means, and the inputs that used to fool it (issue 18).

converged=True only when the stopping rule is met *and* a minimiser exists; separable data at
l2 = 0, a class without a sample, an overflowing X, a non-finite iterate never give it.  Also: the
dtype-dependent default tolerance, float16 / sparse inputs, Newton's invariance to the scale of
the features, sample weights, fit_intercept=False and warm starts.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import sce_lib
from sce_lib import ConvergenceWarning, fit_softmax_regression
from sce_lib.data import digits, gaussian_mixture, mnist1d, separable_toy
from sce_lib.optim.certify import lp_decides, separates, stationary_certificate
from sce_lib.optim.objective import Objective

METHODS = ["gd", "nesterov", "newton", "newton-cg", "lbfgs"]
BUDGET = {"gd": 3000, "nesterov": 1000}  # first-order methods would otherwise run 100 000 steps


@pytest.fixture(scope="module")
def mixture() -> tuple[torch.Tensor, torch.Tensor]:
    return gaussian_mixture(40, K=3, d=4, separation=2.0, seed=0)


def _fit(*args, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_softmax_regression(*args, **kw)
    return res, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


# ---------------------------------------------------------------------------------------------
# no minimiser -> never converged=True
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("method", METHODS)
def test_separable_data_at_l2_zero_is_never_converged(method: str, seed: int) -> None:
    X, y, _, _ = separable_toy(seed=seed)
    res, caught = _fit(X, y, method=method, max_iter=BUDGET.get(method))
    assert not res.converged and res.status == "separable"
    assert len(caught) == 1 and "linearly separable" in str(caught[0].message) and "l2 > 0" in str(caught[0].message)


@pytest.mark.parametrize("method", ["newton-cg", "lbfgs"])
def test_the_digits_at_l2_zero_are_not_converged(method: str) -> None:
    # Chapter 04 certifies the digits separable; the old solver said converged=True here.
    X, y = digits()
    res, caught = _fit(X, y, method=method)
    assert not res.converged and res.status == "separable" and len(caught) == 1


def test_quasi_separable_data_have_no_minimiser() -> None:
    # Margins >= 0 with two ties at x = 0: no iterate separates, yet f decreases forever along w = (-1, 1) x.
    X = torch.tensor([[-2.0], [-1.0], [0.0], [0.0], [1.0], [2.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 1, 1, 1])
    assert lp_decides(Objective(X, y, 2, 0.0)) is False
    for method in ["newton", "newton-cg", "lbfgs"]:
        res, caught = _fit(X, y, method=method)
        assert not res.converged and res.status in ("no_minimiser", "max_iter", "line_search") and caught


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_separable_class_among_overlapping_ones_has_no_minimiser(dtype: torch.dtype) -> None:
    """Class 0 lies apart, classes 1 and 2 overlap: its logit can grow forever (quasi-complete
    separation).  In float32 the stationarity certificate, if computed in float32, certified the stopping
    point of newton and newton-cg (its residual test allows eps_32 |u|, above the gradient there); it is
    computed in float64."""
    gen = torch.Generator().manual_seed(7)
    far = torch.randn(40, 2, generator=gen, dtype=torch.float64) + torch.tensor([8.0, 0.0], dtype=torch.float64)
    X = torch.cat([far, torch.randn(80, 2, generator=gen, dtype=torch.float64)]).to(dtype)
    y = torch.cat([torch.zeros(40, dtype=torch.long), torch.randint(1, 3, (80,), generator=gen)])
    for method in ["auto", "newton", "newton-cg", "lbfgs"]:
        res, caught = _fit(X, y, method=method)
        assert not res.converged and res.status in ("no_minimiser", "max_iter", "line_search") and caught, (method, res.status)
    for tol in [1e-4, 1e-6]:
        res, _ = _fit(X, y, method="newton", tol=tol)
        assert not res.converged, (tol, res.status)


def test_non_separable_data_are_certified(mixture) -> None:
    X, y = mixture
    obj = Objective(X, y, 3, 0.0)
    assert lp_decides(obj) is True
    res, caught = _fit(X, y, method="newton")
    assert res.converged and res.status == "converged" and not caught
    ok, worst = stationary_certificate(obj, torch.cat([res.W, res.b[:, None]], 1))
    assert ok and worst < 1e-6
    # ... and the certificate is not a rubber stamp: at theta = 0 (gradient far from 0) it fails.
    ok0, _ = stationary_certificate(obj, obj.zeros())
    assert not ok0


def test_mnist1d_at_l2_zero_converges_with_a_certificate() -> None:
    X, y, _, _ = mnist1d()
    res, caught = _fit(X, y, method="newton-cg")
    assert res.converged and not caught
    assert not separates(Objective(X, y, 10, 0.0), torch.cat([res.W, res.b[:, None]], 1))


def test_a_class_without_samples_is_refused(mixture) -> None:
    X, y = mixture
    y02 = torch.where(y == 1, 2, y)
    with pytest.raises(ValueError, match=r"y: expected every class 0\.\.2 to have a sample, got none for class \[1\]"):
        fit_softmax_regression(X, y02, n_classes=3, l2=0.1)
    w = torch.ones(len(y), dtype=torch.float64)
    w[y == 1] = 0
    with pytest.raises(ValueError, match="of positive weight"):
        fit_softmax_regression(X, y, l2=0.1, sample_weight=w)
    # Without a bias the penalty alone makes a minimiser exist.
    res, caught = _fit(X, y02, n_classes=3, l2=0.1, fit_intercept=False)
    assert res.converged and not caught


def test_overflowing_input_is_refused_not_converged(mixture) -> None:
    X, y = mixture
    with pytest.raises(ValueError, match=r"X: the gradient of f at 0 is not finite .* standardise X"):
        fit_softmax_regression(X * 1e160, y, l2=0.1)


@pytest.mark.parametrize("method", METHODS)
def test_a_non_finite_iterate_stops_the_fit(mixture, method: str, monkeypatch) -> None:
    # An overflow in the middle of a run (simulated: from the 5th evaluation on, NaN) must end it with
    # converged=False, a warning, and the last finite iterate -- not NaN parameters.
    X, y = mixture
    real = Objective.value_grad
    calls = []

    def flaky(self, V):
        calls.append(1)
        f, g, p = real(self, V)
        return (float("nan"), g * float("nan"), p) if len(calls) >= 5 else (f, g, p)

    monkeypatch.setattr(Objective, "value_grad", flaky)
    res, caught = _fit(X, y, l2=0.1, method=method)
    assert not res.converged and res.status == "non_finite" and len(caught) == 1
    assert "non-finite" in str(caught[0].message)
    assert math.isfinite(res.loss) and bool(torch.isfinite(res.theta).all())
    assert len(res.history["loss"]) == res.n_iter + 1 and all(map(math.isfinite, res.history["loss"]))
    with pytest.raises(ValueError, match="init: f or its gradient is not finite at the starting point"):
        monkeypatch.setattr(Objective, "value_grad", lambda self, V: (float("nan"), V, V))
        fit_softmax_regression(X, y, l2=0.1, method=method)


# ---------------------------------------------------------------------------------------------
# dtypes and layouts
# ---------------------------------------------------------------------------------------------
def test_float32_converges_with_the_default_tol_on_the_digits() -> None:
    X, y = digits()
    ref = fit_softmax_regression(X, y, l2=1e-3, method="newton-cg")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the book's setting; two threads on a loaded machine spin for seconds
    try:
        start = time.perf_counter()
        res, caught = _fit(X.float(), y, l2=1e-3)  # auto -> newton-cg
        elapsed = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    assert res.converged and not caught and res.W.dtype == torch.float32 and res.tol == 1e-5
    assert res.n_evals["hvp"] + res.n_evals["hvp_float32"] <= 300 and elapsed < 2.0  # 0.11 s under load 16 on 2 cores
    assert abs(res.loss - ref.loss) <= 1e-6 * ref.loss
    Xm, ym, _, _ = mnist1d()
    for Xa, ya, method in [(X[:, ::4], y, "newton"), (X, y, "lbfgs"), (Xm, ym, "lbfgs"), (Xm, ym, "newton-cg")]:
        r, c = _fit(Xa.float(), ya, l2=1e-3, method=method)
        assert r.converged and not c, (method, r.status)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(mixture, dtype: torch.dtype) -> None:
    X, y = mixture
    res, caught = _fit(X.to(dtype), y, l2=0.1, method="newton")
    assert res.converged and not caught and res.W.dtype == torch.float32


def test_sparse_input_is_refused(mixture) -> None:
    X, y = mixture
    with pytest.raises(TypeError, match=r"X: expected a dense \(strided\) tensor, got layout torch.sparse_coo"):
        fit_softmax_regression(X.to_sparse(), y, l2=0.1)
    import scipy.sparse

    with pytest.raises(TypeError, match="X: expected a dense array, got the scipy sparse matrix"):
        fit_softmax_regression(scipy.sparse.csr_matrix(X.numpy()), y, l2=0.1)


# ---------------------------------------------------------------------------------------------
# invariance to the scale of the features
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["newton", "newton-cg"])
def test_newton_is_invariant_to_the_feature_scale(method: str) -> None:
    # (s X, l2 s^2) has the minimiser (W / s, b): the same problem in other units.
    X, y, _, _ = mnist1d()
    X, y = X[:600], y[:600]
    iters, losses = [], []
    for s in [1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2]:
        res, caught = _fit(X * s, y, l2=1e-3 * s * s, method=method)
        assert res.converged and not caught
        iters.append(res.n_iter)
        losses.append(res.loss)
    assert max(iters) - min(iters) <= 1, iters
    assert max(losses) - min(losses) <= 1e-10 * min(losses)


def _products(res) -> int:
    return res.n_evals["hvp"] + res.n_evals["hvp_float32"]


def test_newton_cg_preconditioner_carries_the_feature_correlations(monkeypatch) -> None:
    """The preconditioner (per class, the features' Gram matrix in its scaled eigenbasis) against the
    diagonal (Jacobi) one: on MNIST-1D, whose 40 features are correlated, the same fit to the same
    objective takes under half the Hessian-vector products (71 against 303 when written)."""
    import sce_lib.optim.newton as newton

    X, y, _, _ = mnist1d()
    eigen = fit_softmax_regression(X, y, l2=3e-4, method="newton-cg", tol=1e-6)

    def jacobi(obj, p, shift):  # M = the diagonal of H + delta D, the matrix CG solves with
        Minv = 1.0 / (obj.hessian_diagonal(p) - obj.l2 * obj.mask + shift)
        return lambda r: Minv * r

    monkeypatch.setattr(newton, "_preconditioner", jacobi)
    diagonal = fit_softmax_regression(X, y, l2=3e-4, method="newton-cg", tol=1e-6)
    assert eigen.converged and diagonal.converged
    assert abs(eigen.loss - diagonal.loss) <= 1e-10 * diagonal.loss
    assert 2 * _products(eigen) < _products(diagonal), (eigen.n_evals, diagonal.n_evals)


def test_newton_cg_preconditioner_is_the_gram_block_with_its_diagonal_part_rotated() -> None:
    """M_k = S^-1 Q diag(s_k lam + diag(Q^T E~_k Q)) Q^T S^-1: where E~_k = S E_k S is a multiple of I it is
    the block s_k G + E_k exactly; elsewhere it is symmetric positive definite, and it transforms as
    T M T under x -> T x (gradients as g T, so M^-1 as T^-1 M^-1 T^-1), up to the floor in w."""
    from sce_lib.optim.newton import _preconditioner
    from sce_lib.optim.objective import Objective

    X, y, _, _ = mnist1d()
    X, y = X[:300, :8], y[:300]
    obj = Objective(X, y, 10, 0.0)
    _, _, p = obj.value_grad(0.01 * torch.randn(10, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    w, _, _, _ = obj.gram_eigen()
    s = obj._mean(p * (1 - p))
    shift = 0.3 * torch.ones(10, 1, dtype=torch.float64) / (w * w)  # E_k S^2 = 0.3 I: E~_k isotropic
    Minv = _preconditioner(obj, p, shift)
    eye = torch.eye(9, dtype=torch.float64)
    for k in (0, 7):
        block = s[k] * obj.gram() + torch.diag(shift[k])
        cols = torch.stack([Minv(torch.zeros(10, 9, dtype=torch.float64).index_copy(0, torch.tensor([k]), e[None]))[k] for e in eye], 1)
        torch.testing.assert_close(cols @ block, eye, rtol=0, atol=1e-9)
    shift = torch.rand(10, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.1
    Minv = _preconditioner(obj, p, shift)
    cols = torch.stack([Minv(e.reshape(1, 9).expand(10, 9).clone())[3] for e in eye], 1)
    torch.testing.assert_close(cols, cols.T, rtol=0, atol=1e-10)
    assert float(torch.linalg.eigvalsh(cols).min()) > 0
    T = torch.tensor([10.0 ** e for e in (-1, -0.5, 0, 0.5, 1, 0.2, 0, 1)], dtype=torch.float64)
    objT = Objective(X * T, y, 10, 0.0)
    Tt = torch.cat([T, torch.ones(1, dtype=torch.float64)])
    r = torch.randn(10, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    MinvT = _preconditioner(objT, p, shift * Tt * Tt)  # delta D transforms like diag H: T^2
    torch.testing.assert_close(MinvT(r * Tt) * Tt, Minv(r), rtol=1e-6, atol=0)  # M_T^-1 = T^-1 M^-1 T^-1


def test_newton_iterates_stay_centred(mixture) -> None:
    # The step's class-mean is removed, so from theta_0 = 0 the class-sums of [W b] stay 0.  (The
    # iterates are not the minimum-norm minimiser in the flat directions of a rank-deficient X.)
    X, y = mixture
    for method in ["newton", "newton-cg"]:
        res = fit_softmax_regression(X, y, l2=0.0, method=method)
        theta = torch.cat([res.W, res.b[:, None]], dim=1)
        assert theta.sum(dim=0).abs().max() < 1e-10 * theta.abs().max()


# ---------------------------------------------------------------------------------------------
# sample weights, no intercept, warm starts
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["newton", "newton-cg", "lbfgs"])
def test_integer_weights_equal_duplicated_rows(mixture, method: str, gen: torch.Generator) -> None:
    X, y = mixture
    w = torch.randint(0, 4, (len(y),), generator=gen)  # 0 drops a row, 3 triples it
    rows = torch.repeat_interleave(torch.arange(len(y)), w)
    weighted = fit_softmax_regression(X, y, l2=0.05, method=method, sample_weight=w)
    duplicated = fit_softmax_regression(X[rows], y[rows], l2=0.05, method=method)
    assert weighted.converged and duplicated.converged
    assert weighted.loss == pytest.approx(duplicated.loss, rel=1e-12)
    torch.testing.assert_close(weighted.theta, duplicated.theta, rtol=0, atol=1e-6)


def test_weighted_objective_matches_scikit_learn(mixture) -> None:
    X, y = mixture
    w = torch.linspace(0.2, 3.0, len(y), dtype=torch.float64)
    l2 = 0.05
    ours = fit_softmax_regression(X, y, l2=l2, method="newton", sample_weight=w)
    sk = LogisticRegression(C=1 / (l2 * float(w.sum())), solver="newton-cholesky", tol=1e-12, max_iter=1000)
    sk.fit(X.numpy(), y.numpy(), sample_weight=w.numpy())
    np.testing.assert_allclose(ours.W.numpy(), sk.coef_ - sk.coef_.mean(0), atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X).numpy(), sk.predict_proba(X.numpy()), atol=1e-8)


def test_no_intercept_matches_scikit_learn(mixture) -> None:
    X, y = mixture
    ours = fit_softmax_regression(X, y, l2=0.05, method="newton-cg", fit_intercept=False)
    sk = LogisticRegression(C=1 / (0.05 * len(y)), fit_intercept=False, solver="newton-cholesky", tol=1e-12,
                            max_iter=1000).fit(X.numpy(), y.numpy())
    assert ours.converged and torch.equal(ours.b, torch.zeros(3, dtype=torch.float64))
    np.testing.assert_allclose(ours.predict_proba(X).numpy(), sk.predict_proba(X.numpy()), atol=1e-8)


def test_warm_start_along_a_path(mixture) -> None:
    X, y = mixture
    path = [1e-1, 3e-2, 1e-2]
    cold = [fit_softmax_regression(X, y, l2=l2, method="newton-cg") for l2 in path]
    warm, prev = [], None
    for l2 in path:
        prev = fit_softmax_regression(X, y, l2=l2, method="newton-cg", init=None if prev is None else (prev.W, prev.b))
        warm.append(prev)
    for c, w in zip(cold, warm):
        assert w.converged and w.loss == pytest.approx(c.loss, rel=1e-12)
    assert sum(w.n_iter for w in warm[1:]) < sum(c.n_iter for c in cold[1:])
    # Started at the minimiser: done at once (the rule is relative to ||grad f(0)||, not to the start).
    again = fit_softmax_regression(X, y, l2=path[-1], method="newton-cg", init=(warm[-1].W, warm[-1].b))
    assert again.n_iter == 0 and again.converged


def test_bad_extras_are_refused(mixture) -> None:
    X, y = mixture
    with pytest.raises(ValueError, match=r"sample_weight: expected shape \(N,\) = \(120,\)"):
        fit_softmax_regression(X, y, sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight: expected finite weights >= 0"):
        fit_softmax_regression(X, y, sample_weight=-torch.ones(120))
    with pytest.raises(ValueError, match="sample_weight: expected a positive sum"):
        fit_softmax_regression(X, y, sample_weight=torch.zeros(120))
    with pytest.raises(ValueError, match=r"init: expected W of shape \(K, d\) = \(3, 4\)"):
        fit_softmax_regression(X, y, init=(torch.zeros(3, 3), torch.zeros(3)))
    with pytest.raises(TypeError, match="init: expected None or a pair"):
        fit_softmax_regression(X, y, init=torch.zeros(3, 4))
    with pytest.raises(TypeError, match="fit_intercept: expected a bool"):
        fit_softmax_regression(X, y, fit_intercept=1)


@pytest.mark.parametrize("method", ["newton", "newton-cg"])
def test_lighter_damping_takes_fewer_newton_steps(monkeypatch, method: str) -> None:
    """delta_t = 0.1 min(1, sqrt(g^T D^-1 g)) against the factor 1 it replaced: fewer Newton steps to the
    same minimiser on some problems, more on none (8 against 12 with newton on 600 signals of MNIST-1D, 13
    against 13 with newton-cg on every fourth pixel of the digits, when written)."""
    import sce_lib.optim.newton as newton

    Xm, ym, _, _ = mnist1d()
    Xd, yd = digits()
    problems = [(Xm[:600], ym[:600], 1e-3), (Xd[:, ::4], yd, 1e-3)]
    light = [fit_softmax_regression(X, y, l2=l2, method=method) for X, y, l2 in problems]
    monkeypatch.setattr(newton, "DAMPING", 1.0)
    heavy = [fit_softmax_regression(X, y, l2=l2, method=method) for X, y, l2 in problems]
    for a, b in zip(light, heavy):
        assert a.converged and b.converged and abs(a.loss - b.loss) <= 1e-10 * b.loss
    steps = [(a.n_iter, b.n_iter) for a, b in zip(light, heavy)]
    assert all(a <= b for a, b in steps) and any(a < b for a, b in steps), steps


def test_newton_cg_beyond_float32s_range_falls_back_to_float64(mixture) -> None:
    """Features of 1e39 overflow float32 (max 3.4e38), where newton-cg computes its CG products; the
    float64 check of the step catches the nan and the fit goes on in float64, with the iterations of
    the same problem in units of 1 ((s X, l2 s^2) has the minimiser W / s).  Without an intercept: the
    stopping rule's ||grad f|| would otherwise weigh the bias's gradient 1e39 times less than W's."""
    X, y = mixture
    ref, _ = _fit(X, y, l2=1e-2, method="newton-cg", fit_intercept=False)
    big, caught = _fit(X * 1e39, y, l2=1e-2 * 1e78, method="newton-cg", fit_intercept=False)
    assert big.converged and not caught and ref.converged
    assert abs(big.n_iter - ref.n_iter) <= 1 and big.n_evals["hvp_float32"] < ref.n_evals["hvp_float32"]
    assert abs(big.loss - ref.loss) <= 1e-10 * ref.loss
    torch.testing.assert_close(big.W * 1e39, ref.W, rtol=1e-6, atol=1e-8)
    n = min(big.n_iter, ref.n_iter)  # the same steps, not merely the same end
    np.testing.assert_allclose(big.history["loss"][:n], ref.history["loss"][:n], rtol=1e-6)
