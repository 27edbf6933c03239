"""Minimising the linear softmax classifier's objective: ``fit_softmax_regression``.

Modules: :mod:`.fit` (the public entry point and ``"auto"``), :mod:`.objective` (f, grad f,
H and H v, fused), :mod:`.first_order` (gradient descent, Nesterov), :mod:`.newton` (dense and
truncated Newton), :mod:`.lbfgs`, :mod:`.tracker` (history, stopping rule, progress bar),
:mod:`.result` (``FitResult``, ``ConvergenceWarning``).
"""

from .fit import choose_method, fit_softmax_regression
from .result import ConvergenceWarning, FitResult

__all__ = ["fit_softmax_regression", "FitResult", "ConvergenceWarning", "choose_method"]
