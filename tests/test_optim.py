"""Tests of sce_lib.optim: every method reaches scikit-learn's optimum, the stopping rule, the
warning, the separable case, the validation of the inputs.

scikit-learn is the independent reference: its ``LogisticRegression`` minimises
sum_n CE + ||W||^2 / (2C), which is N times our objective when C = 1 / (N l2) (``C = inf`` for
l2 = 0); it does not penalise the intercept, like us.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import sce_lib
from sce_lib import ConvergenceWarning, FitResult, fit_softmax_regression
from sce_lib.data import gaussian_mixture, separable_toy
from sce_lib.optim import choose_method
from sce_lib.optim.objective import Objective, smoothness_constant

METHODS = ["gd", "nesterov", "newton", "newton-cg", "lbfgs"]


@pytest.fixture(scope="module")
def mixture() -> tuple[torch.Tensor, torch.Tensor]:
    # Three overlapping Gaussian classes in d = 4: not separable (the l2 = 0 optimum exists).
    return gaussian_mixture(40, K=3, d=4, separation=2.0, seed=0)


def _sklearn(X: torch.Tensor, y: torch.Tensor, l2: float) -> LogisticRegression:
    C = math.inf if l2 == 0 else 1.0 / (X.shape[0] * l2)
    return LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X.numpy(), y.numpy())


# ---------------------------------------------------------------------------------------------
# the optimum
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("l2", [0.1, 0.0])
@pytest.mark.parametrize("method", METHODS)
def test_each_method_reaches_sklearns_optimum(mixture, method: str, l2: float) -> None:
    X, y = mixture
    ref = _sklearn(X, y, l2)
    f_ref = float(sce_lib.linear_ce_loss(torch.from_numpy(ref.coef_), torch.from_numpy(ref.intercept_), X, y, l2))
    first_order = method in ("gd", "nesterov")
    res = fit_softmax_regression(X, y, l2=l2, method=method, tol=1e-7 if first_order else None)
    assert res.converged and res.method == method
    # At l2 = 0, W is unique only up to W + 1 u^T: compare objectives and probabilities, not W.
    # f - f* <= ||g||^2 / (2 mu) for the strongly convex restriction: with ||g|| <= 1e-7 ||g_0||
    # that is ~1e-14 relative; 1e-10 leaves room for sklearn's own tolerance (1e-12).
    assert abs(res.loss - f_ref) <= 1e-10 * f_ref
    assert res.loss == pytest.approx(float(sce_lib.linear_ce_loss(res.W, res.b, X, y, l2)), rel=1e-13)
    # Probabilities move by at most ~||theta - theta*|| ~ ||g|| / mu, with tol (first order) 1e-7,
    # (lbfgs) 1e-8, (newton) 1e-10 and mu ~ 1e-2 here.
    tol_p = {"gd": 1e-5, "nesterov": 1e-5, "lbfgs": 1e-6}.get(method, 1e-8)
    np.testing.assert_allclose(res.predict_proba(X).numpy(), ref.predict_proba(X.numpy()), atol=tol_p, rtol=0)


def test_the_optimum_is_a_family_at_l2_zero(mixture) -> None:
    # At l2 = 0 the optimum shifted by 1 u^T has the same loss: the class-sums of [W b] are a choice
    # (Newton's iterates keep them 0: tests/test_optim_semantics.py), not a law.
    X, y = mixture
    res = fit_softmax_regression(X, y, l2=0.0, method="newton")
    shifted = float(sce_lib.linear_ce_loss(res.W + 3.0, res.b - 1.0, X, y))
    assert shifted == pytest.approx(res.loss, rel=1e-12)


def test_fused_objective_matches_the_public_functions(mixture, gen: torch.Generator) -> None:
    X, y = mixture
    l2 = 0.3
    obj = Objective(X, y, 3, l2)
    V = torch.randn(3, X.shape[1] + 1, generator=gen, dtype=torch.float64)
    W, b = V[:, :-1], V[:, -1]
    f, g, p = obj.value_grad(V)
    dW, db = sce_lib.linear_ce_gradient(W, b, X, y, l2)
    assert f == pytest.approx(float(sce_lib.linear_ce_loss(W, b, X, y, l2)), rel=1e-14)
    assert obj.value(V) == pytest.approx(f, rel=1e-14)
    torch.testing.assert_close(g, torch.cat([dW, db[:, None]], dim=1), rtol=1e-12, atol=1e-14)
    P = torch.randn(3, X.shape[1] + 1, generator=gen, dtype=torch.float64)
    hv = sce_lib.linear_ce_hvp(W, b, X, y, P.reshape(-1), l2).reshape(P.shape)
    torch.testing.assert_close(obj.hvp(p, P), hv, rtol=1e-12, atol=1e-14)
    shift = torch.rand(P.shape, generator=gen, dtype=torch.float64)  # newton-cg's l2 mask + delta D
    fast = obj.hvp_map(p, l2 * obj.mask + shift, float32=True)(P)  # products in float32, result in float64
    assert fast.dtype == torch.float64 and obj.counts["hvp_float32"] == 1
    torch.testing.assert_close(fast, hv + shift * P, rtol=1e-5, atol=1e-6)
    assert (fast - hv - shift * P).abs().max() > 0  # it did round: the products ran in float32
    H = sce_lib.linear_ce_hessian(W, b, X, y, l2)
    torch.testing.assert_close(obj.hessian_diagonal(p).reshape(-1), H.diagonal(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(obj.hessian(V), H, rtol=1e-12, atol=1e-14)
    beta = smoothness_constant(obj.XtT, l2)
    assert torch.linalg.eigvalsh(H)[-1] <= beta  # chapter 04's bound, at a random point


# ---------------------------------------------------------------------------------------------
# the iterations
# ---------------------------------------------------------------------------------------------
def test_gradient_descent_decreases_by_the_descent_lemma(mixture) -> None:
    # f(theta_{t+1}) <= f(theta_t) - ||g_t||^2 / (2 beta): monotone, and by at least that much.
    X, y = mixture
    beta = smoothness_constant(Objective(X, y, 3, 0.0).XtT, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 300 steps do not reach tol: not the point here
        res = fit_softmax_regression(X, y, method="gd", max_iter=300, tol=1e-12)
    f, g = np.array(res.history["loss"]), np.array(res.history["grad_norm"])
    decrease = f[:-1] - f[1:]
    assert np.all(decrease >= g[:-1] ** 2 / (2 * beta) - 1e-15)  # 1e-15: rounding of O(1) losses


def test_newton_converges_quadratically_at_l2_zero(mixture) -> None:
    X, y = mixture
    res = fit_softmax_regression(X, y, l2=0.0, method="newton", tol=1e-13)
    g = np.array(res.history["grad_norm"])
    assert res.converged and res.n_iter <= 12
    # Quadratic: g_{t+1} <= C g_t^2 in the last steps, with one C; the last step squares the error.
    # (A step that lands on the rounding floor, g_{t+1} < 1e3 eps g_0, cannot show the square.  On this
    # problem the relative norms run 7e-3, 1.5e-4, 7e-8, 1.6e-14: two steps above the floor, each
    # squaring with C ~ 3, where a linear rate would give ratios g_{t+1} / g_t^2 growing 50-fold.)
    floor = 1e3 * np.finfo(np.float64).eps * g[0]
    tail = [(g[t], g[t + 1]) for t in range(len(g) - 1) if g[t] < 1e-2 * g[0] and g[t + 1] > floor]
    assert len(tail) >= 2
    assert all(b <= 10 * a ** 2 / g[0] for a, b in tail)


def test_separable_data_without_l2_loss_to_zero_and_norm_unbounded() -> None:
    X, y, _, _ = separable_toy(seed=0)
    norms: list[float] = []
    with pytest.warns(ConvergenceWarning, match="separable"):
        res = fit_softmax_regression(X, y, method="gd", max_iter=3000,
                                     callback=lambda t, W, b: norms.append(float(torch.cat([W, b[:, None]], 1).norm())))
    assert not res.converged and len(norms) == res.n_iter + 1 == 3001
    loss = np.array(res.history["loss"])
    assert np.all(np.diff(loss) < 0) and loss[-1] < 1e-2
    assert np.all(np.diff(norms) > 0)  # the norm increases at every step ...
    # ... without bound: it grows like log t (Soudry et al.), so ||theta_t|| - ||theta_{t/10}|| stays
    # above a positive constant: each decade adds about the same amount.
    gains = [norms[10 * t] - norms[t] for t in (30, 300)]
    assert min(gains) > 0.5 * max(gains) > 0


def test_progress_bar_only_when_asked(mixture, capsys) -> None:
    X, y = mixture
    fit_softmax_regression(X, y, l2=0.1, method="newton")
    assert capsys.readouterr().err == ""
    fit_softmax_regression(X, y, l2=0.1, method="newton", progress=True)
    assert "fit (newton)" in capsys.readouterr().err


def test_non_convergence_warns_and_says_so(mixture) -> None:
    X, y = mixture
    with pytest.warns(ConvergenceWarning, match="stopped after 3 iterations"):
        res = fit_softmax_regression(X, y, l2=0.1, method="gd", max_iter=3)
    assert not res.converged and res.n_iter == 3
    assert res.grad_norm > res.tol * res.history["grad_norm"][0]


def test_result_fields_and_history(mixture) -> None:
    X, y = mixture
    res = fit_softmax_regression(X, y, l2=0.1, method="lbfgs")
    assert isinstance(res, FitResult)
    assert all(len(v) == res.n_iter + 1 for v in res.history.values())
    assert res.history["grad_norm"][-1] <= res.tol * res.history["grad_norm"][0]
    assert np.all(np.diff(res.history["time"]) >= 0)
    assert res.W.shape == (3, 4) and res.b.shape == (3,) and res.theta.shape == (15,)
    assert torch.equal(res.predict(X), res.decision_function(X).argmax(dim=1))


def test_lbfgs_is_torch_lbfgs_with_strong_wolfe(mixture) -> None:
    # The library's "lbfgs" runs torch.optim.LBFGS (strong Wolfe) one iteration per step call, on
    # c f with c = 1 / (tol ||g_0||)^2: the same iterates as one torch call of 10 iterations on an
    # autograd closure of c f (the look-up of the accepted point must change nothing).
    X, y = mixture
    tol, n = 1e-12, 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = fit_softmax_regression(X, y, l2=0.1, method="lbfgs", tol=tol, max_iter=n)
    g0 = ours.history["grad_norm"][0]
    c = 1.0 / (tol * g0) ** 2
    V = torch.zeros(3, X.shape[1] + 1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([V], lr=1.0, max_iter=n, max_eval=10 * n, history_size=10, tolerance_grad=0.0,
                            tolerance_change=0.0, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = c * sce_lib.linear_ce_loss(V[:, :-1], V[:, -1], X, y, 0.1)
        loss.backward()
        return loss

    opt.step(closure)
    assert ours.n_iter == n == opt.state[V]["n_iter"]
    torch.testing.assert_close(ours.theta.reshape(3, -1), V.detach(), rtol=1e-9, atol=1e-12)


def test_lbfgs_keeps_its_memory_near_the_optimum() -> None:
    # torch stores a pair only if s^T y > 1e-10 (absolute); without the scaling c the memory freezes
    # once ||g|| ~ 1e-5 and the digits need 689 iterations to tol 1e-8.  With it: ~141 (bound 250).
    X, y = sce_lib.data.digits()
    res = fit_softmax_regression(X, y, l2=1e-3, method="lbfgs", tol=1e-8)
    assert res.converged and res.n_iter <= 250


def test_auto_says_what_it_picked(mixture) -> None:
    X, y = mixture
    res = fit_softmax_regression(X, y, l2=0.1)
    assert res.method == choose_method(*X.shape, 3) == "newton"
    assert choose_method(20_000, 256, 100) == "newton-cg"


def test_float32_and_device_follow_the_input(mixture) -> None:
    X, y = mixture
    res = fit_softmax_regression(X.float(), y, l2=0.1, method="newton-cg", tol=1e-4)
    assert res.W.dtype == torch.float32 and res.converged


@pytest.mark.gpu
def test_gpu_gives_the_cpu_optimum(mixture) -> None:
    X, y = mixture
    cpu = fit_softmax_regression(X, y, l2=0.1, method="newton-cg")
    gpu = fit_softmax_regression(X, y, l2=0.1, method="newton-cg", device="cuda")
    assert gpu.W.device.type == "cuda"
    assert gpu.loss == pytest.approx(cpu.loss, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# validation: one test per kind of bad input
# ---------------------------------------------------------------------------------------------
def test_rejects_bad_shapes(mixture) -> None:
    X, y = mixture
    with pytest.raises(ValueError, match=r"X: expected a 2-D tensor of shape \(N, d\)"):
        fit_softmax_regression(X[:, 0], y)
    with pytest.raises(ValueError, match=r"y: expected shape \(N,\) = \(120,\)"):
        fit_softmax_regression(X, y[:-1])


def test_rejects_bad_labels(mixture) -> None:
    X, y = mixture
    with pytest.raises(ValueError, match=r"y: expected class indices in \[0, 1\], got min 0 and max 2"):
        fit_softmax_regression(X, y, n_classes=2)
    with pytest.raises(ValueError, match="y: expected at least two classes"):
        fit_softmax_regression(X, torch.zeros_like(y))
    with pytest.raises(ValueError, match="y: expected integer class indices"):
        fit_softmax_regression(X, y.double() + 0.5)


def test_rejects_non_finite_inputs(mixture) -> None:
    X, y = mixture
    bad = X.clone()
    bad[5, 2] = float("nan")
    with pytest.raises(ValueError, match=r"X: expected finite values, got nan at index \(5, 2\)"):
        fit_softmax_regression(bad, y)


def test_rejects_negative_l2(mixture) -> None:
    with pytest.raises(ValueError, match="l2: expected a finite number >= 0, got -0.1"):
        fit_softmax_regression(*mixture, l2=-0.1)


def test_rejects_unknown_method(mixture) -> None:
    with pytest.raises(ValueError, match="method: expected one of"):
        fit_softmax_regression(*mixture, method="sgd")


def test_rejects_tol_and_max_iter_out_of_range(mixture) -> None:
    for tol in (0.0, 1.0, -1e-3):
        with pytest.raises(ValueError, match=r"tol: expected a finite number > 0 and < 1"):
            fit_softmax_regression(*mixture, tol=tol)
    with pytest.raises(ValueError, match="max_iter: expected an int >= 1, got 0"):
        fit_softmax_regression(*mixture, max_iter=0)
    with pytest.raises(TypeError, match="max_iter: expected an int >= 1, got float"):
        fit_softmax_regression(*mixture, max_iter=10.0)


def test_rejects_bad_flags(mixture) -> None:
    with pytest.raises(TypeError, match="progress: expected a bool"):
        fit_softmax_regression(*mixture, progress="yes")
    with pytest.raises(TypeError, match="callback: expected None or a callable"):
        fit_softmax_regression(*mixture, callback=3)
