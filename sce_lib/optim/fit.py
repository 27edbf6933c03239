"""``fit_softmax_regression``: minimise mean CE + (l2/2) ||W||_F^2 over (W, b)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch

from .._validate.optim import check_fit_data, check_fit_options
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
    device: torch.device | str | None = None,
    progress: bool = False,
    callback: Callable[[int, torch.Tensor, torch.Tensor], Any] | None = None,
) -> FitResult:
    """Minimise f(W, b) = (1/N) sum_n CE(W x_n + b, y_n) + (l2/2) ||W||_F^2 from W = 0, b = 0.

    The objective is ``linear_ce_loss``'s (the bias is not penalised).  Methods:

    * ``"gd"``: gradient descent with step 1/beta, beta = lambda_max(X~^T X~)/(2N) + l2;
    * ``"nesterov"``: accelerated gradient, step 1/beta (momentum t/(t+3), or the constant
      (1 - sqrt(l2/beta))/(1 + sqrt(l2/beta)) when l2 > 0);
    * ``"newton"``: dense Hessian, Cholesky, Armijo line search; the Hessian's null directions
      (the bias shift (0, c 1) always, W + 1 u^T when l2 = 0) are handled by a
      Levenberg-Marquardt damping delta_t = O(||grad||), which gives the minimum-norm step
      and keeps quadratic convergence;
    * ``"newton-cg"``: the same step solved by Jacobi-preconditioned conjugate gradients on
      Hessian-vector products, forcing term min(0.5, sqrt(||g_t||/||g_0||));
    * ``"lbfgs"``: ``torch.optim.LBFGS``, memory 10, strong-Wolfe line search, one iteration per
      ``step`` so that the stopping rule below applies (torch's own tests are off);
    * ``"auto"``: see :func:`choose_method`; ``result.method`` says which ran.

    Stopping rule: the first iterate with ||grad f(theta_t)|| <= tol * ||grad f(theta_0)||.  If
    ``max_iter`` iterations pass first (or the line search cannot decrease f), the result has
    ``converged=False`` and a :class:`ConvergenceWarning` is issued.

    Args:
        X: (N, d) inputs (tensor, array or list; integer X is converted to float64).
        y: (N,) class indices in [0, K-1].
        l2: weight of (1/2) ||W||_F^2, >= 0.  (scikit-learn's ``C`` is 1 / (N l2).)
        method: one of "auto", "gd", "nesterov", "newton", "newton-cg", "lbfgs".
        tol: in (0, 1); default 1e-6 (gd, nesterov), 1e-8 (lbfgs), 1e-10 (newton, newton-cg).
        max_iter: >= 1; default 100 000 (gd, nesterov), 10 000 (lbfgs), 100 (newton, newton-cg).
        n_classes: K (default max(y) + 1).
        device: where to compute (default: X's device).
        progress: show a tqdm progress bar on stderr (default off).
        callback: called as ``callback(t, W, b)`` at every iterate, t = 0, 1, ... (W, b are views:
            copy them to keep them).

    Returns:
        A :class:`FitResult` with W (K, d), b (K,) in X's dtype, on the device used.

    Example:
        >>> res = fit_softmax_regression([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], l2=0.1, method="newton")
        >>> res.converged, round(res.loss, 6), res.n_iter <= 10
        (True, 0.603693, True)

    Derived in: book/05-minimisation.md, §The stopping rule.
    """
    X, y, K = check_fit_data(X, y, n_classes, device)
    l2, method, tol, max_iter, progress, callback = check_fit_options(l2, method, tol, max_iter, progress, callback)
    if method == "auto":
        method = choose_method(X.shape[0], X.shape[1], K)
    tol = DEFAULT_TOL[method] if tol is None else tol
    max_iter = DEFAULT_MAX_ITER[method] if max_iter is None else max_iter

    obj = Objective(X, y, K, l2)
    tracker = Tracker(tol, max_iter, progress, method, callback, X.shape[1])
    try:
        with torch.no_grad():
            V = SOLVERS[method](obj, tracker)
    finally:
        tracker.close()
    h = tracker.history
    converged = h["grad_norm"][-1] <= tracker.threshold
    if not converged:
        warnings.warn(
            f"fit_softmax_regression ({method}): stopped after {tracker.n_iter} iterations with "
            f"||grad|| / ||grad_0|| = {h['grad_norm'][-1] / h['grad_norm'][0]:.2e} > tol = {tol:.1e}"
            + ("" if tracker.done() else " (the line search could not decrease f further)")
            + "; raise max_iter, loosen tol, or add l2 > 0 if the data may be separable",
            ConvergenceWarning, stacklevel=2)
    W, b = obj.split(V.detach())
    return FitResult(W=W, b=b, loss=h["loss"][-1], grad_norm=h["grad_norm"][-1], history=h,
                     n_iter=tracker.n_iter, converged=converged, method=method, l2=l2, tol=tol,
                     n_evals=dict(obj.counts))
