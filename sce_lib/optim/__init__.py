"""Minimising the linear softmax classifier's objective: ``fit_softmax_regression``.

Modules: :mod:`.fit` (the public entry point and ``"auto"``), :mod:`.objective` (f, grad f,
H and H v, fused), :mod:`.first_order` (gradient descent, Nesterov), :mod:`.newton` (dense and
truncated Newton), :mod:`.lbfgs`, :mod:`.tracker` (history, stopping rule, progress bar),
:mod:`.result` (``FitResult``, ``ConvergenceWarning``), :mod:`.certify` (does a minimiser exist?),
:mod:`.estimator` (``SoftmaxRegression``, the scikit-learn classifier; imported on first use, so that
``import sce_lib`` does not import scikit-learn).
"""

from .fit import choose_method, fit_softmax_regression
from .result import ConvergenceWarning, FitResult

__all__ = ["fit_softmax_regression", "FitResult", "ConvergenceWarning", "choose_method", "SoftmaxRegression"]


def __getattr__(name: str):  # PEP 562: sklearn is imported only when the estimator is asked for
    if name == "SoftmaxRegression":
        from .estimator import SoftmaxRegression

        return SoftmaxRegression
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
