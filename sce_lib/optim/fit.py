"""``fit_softmax_regression``: minimise mean CE + (l2/2) ||W||_F^2 over (W, b)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch

from .._validate.optim import check_fit_data, check_fit_extras, check_fit_options
from .certify import lp_decides, separates, stationary_certificate
from .first_order import gradient_descent, nesterov
from .lbfgs import lbfgs
from .newton import newton, newton_cg
from .objective import Objective
from .result import ConvergenceWarning, FitResult
from .tracker import Tracker

__all__ = ["fit_softmax_regression", "choose_method"]

SOLVERS = {"gd": gradient_descent, "nesterov": nesterov, "newton": newton, "newton-cg": newton_cg,
           "lbfgs": lbfgs}
DEFAULT_TOL = {"gd": 1e-6, "nesterov": 1e-6, "newton": 1e-10, "newton-cg": 1e-10, "lbfgs": 1e-8}
# float32 (eps 1.2e-7): the float64 defaults cannot be met.  Newton's Armijo test allows for the
# rounding of f and reaches 1e-5 (f within ~1e-7 relative of f*); the Wolfe line search of L-BFGS and
# plain gradient steps need decreases of f above its rounding, eps |f|, i.e. ||g||^2 / beta >~ eps |f|,
# which stalls them near 1e-4 of ||grad f(0)|| (tests/test_optim_semantics.py).
DEFAULT_TOL_FLOAT32 = {"gd": 1e-3, "nesterov": 1e-3, "newton": 1e-5, "newton-cg": 1e-5, "lbfgs": 1e-3}
DEFAULT_MAX_ITER = {"gd": 100_000, "nesterov": 100_000, "newton": 100, "newton-cg": 100, "lbfgs": 10_000}

# "auto" builds the dense Hessian only when it is small: its cost N (K(d+1))^2 flops against
# ~30 Hessian-vector products of 4 N K (d+1) flops each for a CG solve (benchmarks/bench_fit.py).
DENSE_MAX_PARAMS = 200


def choose_method(n_samples: int, n_features: int, n_classes: int) -> str:
    """The method ``"auto"`` runs: ``"newton"`` when K(d+1) <= 200, else ``"newton-cg"``.

    Example:
        >>> choose_method(1797, 64, 10), choose_method(100, 4, 3)
        ('newton-cg', 'newton')

    Derived in: book/05-minimisation.md, §Truncated Newton and L-BFGS.
    """
    return "newton" if n_classes * (n_features + 1) <= DENSE_MAX_PARAMS else "newton-cg"


def fit_softmax_regression(
    X: Any,
    y: Any,
    *,
    l2: float = 0.0,
    method: str = "auto",
    tol: float | None = None,
    max_iter: int | None = None,
    n_classes: int | None = None,
    sample_weight: Any = None,
    fit_intercept: bool = True,
    init: tuple[Any, Any] | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
    callback: Callable[[int, torch.Tensor, torch.Tensor], Any] | None = None,
) -> FitResult:
    """Minimise f(W, b) = sum_n a_n CE(W x_n + b, y_n) + (l2/2) ||W||_F^2, a_n = w_n / sum_m w_m.

    Without ``sample_weight`` a_n = 1/N: the objective of ``linear_ce_loss`` (the bias is not
    penalised); integer weights give the same f as repeating each row w_n times.  Methods:

    * ``"gd"``: gradient descent with step 1/beta, beta = lambda_max(X~^T diag(a) X~)/2 + l2;
    * ``"nesterov"``: accelerated gradient, step 1/beta (momentum t/(t+3), or the constant
      (1 - sqrt(l2/beta))/(1 + sqrt(l2/beta)) when l2 > 0);
    * ``"newton"``: dense Hessian, Cholesky, Armijo line search; the Hessian's null directions
      are handled by the Levenberg-Marquardt damping delta_t D_t with D_t = diag(H_t) and the pure
      number delta_t = 0.1 min(1, sqrt(g^T D_t^{-1} g)), so the iterates do not depend on the scale of
      the features;
    * ``"newton-cg"``: the same step solved by conjugate gradients on Hessian-vector products
      (computed in float32 and checked in float64 when X is float64), preconditioned per class by the
      features' Gram matrix, weighted by the class's mean p (1 - p), in the eigenbasis of its
      Jacobi-scaled form (diagonalised once per fit); forcing term min(0.5, (g^T D^{-1} g)^(1/4));
    * ``"lbfgs"``: ``torch.optim.LBFGS``, memory 10, strong-Wolfe line search, one iteration per
      ``step`` so that the stopping rule below applies (torch's own tests are off);
    * ``"auto"``: see :func:`choose_method`; ``result.method`` says which ran.

    Stopping rule: the first iterate with ||grad f(theta_t)|| <= tol * ||grad f(0)|| (relative to
    the gradient at zero also when ``init`` starts elsewhere).  ``converged=True`` means more:
    that rule was met *and* a minimiser exists.  With l2 > 0 one exists whenever every class has a
    sample of positive weight (a class without one makes its bias run to -inf: ValueError).  With
    l2 = 0 it exists iff no direction decreases every margin's loss (chapter 05, §Separable data):
    the fit checks its last iterate (one that separates the data proves there is none), then a
    certificate built from the probabilities (a positive u with A^T u = 0 proves there is one),
    then, on small problems, a linear programme.  Otherwise ``converged=False``, ``result.status``
    says why, and a :class:`ConvergenceWarning` names the cause and the fix.

    Why l2 = 0 by default, unlike scikit-learn's C = 1 (l2 = 1/N): this function minimises the
    objective the book studies, and on separable data that objective has no minimiser, which the
    result now says instead of hiding it behind a penalty the caller did not choose;
    ``SoftmaxRegression`` (the scikit-learn estimator) keeps scikit-learn's C = 1.

    Args:
        X: (N, d) inputs, dense (tensor, array or list; integer X is converted to float64, float16 and
            bfloat16 to float32, the result is then float32; sparse X is refused with a TypeError).
        y: (N,) class indices in [0, K-1].
        l2: weight of (1/2) ||W||_F^2, >= 0.  (scikit-learn's ``C`` is 1 / (l2 sum_n w_n).)
        method: one of "auto", "gd", "nesterov", "newton", "newton-cg", "lbfgs".
        tol: in (0, 1); default in float64 1e-6 (gd, nesterov), 1e-8 (lbfgs), 1e-10 (newton,
            newton-cg); in float32 1e-3 (gd, nesterov, lbfgs), 1e-5 (newton, newton-cg).
        max_iter: >= 1; default 100 000 (gd, nesterov), 10 000 (lbfgs), 100 (newton, newton-cg).
        n_classes: K (default max(y) + 1).
        sample_weight: (N,) weights >= 0 with a positive sum, or None.
        fit_intercept: fit b (default) or fix b = 0 (then D = d and the result's b is zeros).
        init: (W (K, d), b (K,)) to start from (warm start along a lambda path); default zeros.
        device: where to compute (default: X's device).
        progress: show a tqdm progress bar on stderr (default off).
        callback: called as ``callback(t, W, b)`` at every iterate, t = 0, 1, ... (copies).

    Returns:
        A :class:`FitResult` with W (K, d), b (K,) in X's (computing) dtype, on the device used.

    Example:
        >>> res = fit_softmax_regression([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], l2=0.1, method="newton")
        >>> res.converged, round(res.loss, 6), res.n_iter <= 10
        (True, 0.603693, True)

    Derived in: book/05-minimisation.md, §The stopping rule.
    """
    X, y, K = check_fit_data(X, y, n_classes, device)
    l2, method, tol, max_iter, progress, callback = check_fit_options(l2, method, tol, max_iter, progress, callback)
    weights, fit_intercept, init = check_fit_extras(sample_weight, fit_intercept, init, X, K)
    if fit_intercept:
        _check_every_class_present(y, weights, K)
    if method == "auto":
        method = choose_method(X.shape[0], X.shape[1], K)
    low = X.dtype == torch.float32
    tol = (DEFAULT_TOL_FLOAT32 if low else DEFAULT_TOL)[method] if tol is None else tol
    max_iter = DEFAULT_MAX_ITER[method] if max_iter is None else max_iter

    obj = Objective(X, y, K, l2, weights, fit_intercept)
    with torch.no_grad():
        _, g_zero, _ = obj.value_grad(obj.zeros())
    obj.counts["grad"] = 0
    g_ref = float(g_zero.norm())
    if not math.isfinite(g_ref):
        raise ValueError(f"X: the gradient of f at 0 is not finite (||grad f(0)|| = {g_ref}): |X| up to "
                         f"{float(X.abs().max()):.3g} overflows {X.dtype}; standardise X (e.g. "
                         "sce_lib.data.standardize_columns)")
    V0 = obj.zeros() if init is None else obj.pack(*init)
    tracker = Tracker(tol, max_iter, progress, method, callback, obj.split, g_ref)
    try:
        with torch.no_grad():
            V = SOLVERS[method](obj, tracker, V0)
    finally:
        tracker.close()
    h = tracker.history
    if tracker.failure is not None:
        if tracker.last_finite is None:
            raise ValueError(f"init: f or its gradient is not finite at the starting point ({tracker.failure}); "
                             "start from smaller W, b or standardise X")
        V = tracker.last_finite
        for key in h:
            h[key].pop()
    status = _status(obj, V, tracker, l2)
    converged = status == "converged"
    if not converged:
        warnings.warn(f"fit_softmax_regression ({method}): converged=False: " + _message(status, tracker, tol),
                      ConvergenceWarning, stacklevel=2)
    W, b = obj.split(V.detach())
    return FitResult(W=W, b=b, loss=h["loss"][-1], grad_norm=h["grad_norm"][-1], history=h,
                     n_iter=tracker.n_iter, converged=converged, method=method, l2=l2, tol=tol,
                     n_evals=dict(obj.counts), status=status)


def _check_every_class_present(y: torch.Tensor, weights: torch.Tensor | None, K: int) -> None:
    """With a bias, a class without a sample (of positive weight) has no minimiser: its bias -> -inf."""
    mass = torch.bincount(y, weights=weights, minlength=K)
    missing = (mass <= 0).nonzero().flatten().tolist()
    if missing:
        raise ValueError(
            f"y: expected every class 0..{K - 1} to have a sample{' of positive weight' if weights is not None else ''}, "
            f"got none for class{'es' if len(missing) > 1 else ''} {missing[:10]}: the objective then has no "
            "minimiser (the class's bias is not penalised and runs to -inf); drop the class (n_classes) "
            "or pass fit_intercept=False")


def _status(obj: Objective, V: torch.Tensor, tr: Tracker, l2: float) -> str:
    """Why the run ended, and whether a minimiser exists (chapter 05, §Separable data)."""
    if tr.failure is not None:
        return "non_finite"
    met = tr.history["grad_norm"][-1] <= tr.threshold
    if l2 > 0:
        return "converged" if met else ("max_iter" if tr.done() else "line_search")
    if V.dtype != torch.float64:  # the certificates in float64: float32's rounding would pass a false one
        weights = None if obj.a is None else obj.a[0]
        obj, V = Objective(obj.X.double(), obj.y, obj.K, 0.0, weights, obj.fit_intercept), V.double()
    with torch.no_grad():
        if separates(obj, V):
            return "separable"
        if met:
            certified, _ = stationary_certificate(obj, V)
            if certified:
                return "converged"
        decided = lp_decides(obj) if met or tr.done() else None
    if decided is False:
        return "no_minimiser"
    if met:
        return "converged" if decided else "uncertified"
    return "max_iter" if tr.done() else "line_search"


def _message(status: str, tr: Tracker, tol: float) -> str:
    h = tr.history
    rel = h["grad_norm"][-1] / tr.g_ref if tr.g_ref > 0 else float("nan")
    fix_sep = "pass l2 > 0 for a unique minimiser, or stop early on purpose (max_iter)"
    return {
        "separable": f"the data are linearly separable: iterate {tr.n_iter} classifies every sample correctly, "
                     f"so f has no minimiser (its infimum 0 is approached as ||W|| -> inf); {fix_sep}",
        "no_minimiser": "f has no minimiser: a linear programme found a direction along which every margin "
                        f"grows or stays (the data are separable or quasi-separable); {fix_sep}",
        "uncertified": f"||grad|| / ||grad f(0)|| = {rel:.2e} <= tol, but at l2 = 0 no certificate that a "
                       "minimiser exists could be computed (problem too large for the dense check and the "
                       "linear programme); pass l2 > 0",
        "non_finite": f"{tr.failure}; the last finite iterate is returned; standardise X or pass l2 > 0",
        "max_iter": f"stopped after {tr.n_iter} iterations with ||grad|| / ||grad f(0)|| = {rel:.2e} > tol = "
                    f"{tol:.1e}; raise max_iter, loosen tol, or add l2 > 0 if the data may be separable",
        "line_search": f"stopped after {tr.n_iter} iterations with ||grad|| / ||grad f(0)|| = {rel:.2e} > tol = "
                       f"{tol:.1e} (the line search could not decrease f further: tol is below what this dtype "
                       "can resolve); loosen tol",
    }[status]
