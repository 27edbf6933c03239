"""``SoftmaxRegression``: ``fit_softmax_regression`` as a scikit-learn classifier (Pipeline, GridSearchCV)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._validate.optim import METHODS
from .._validate.scalars import check_bool, check_option, check_real
from .fit import fit_softmax_regression

__all__ = ["SoftmaxRegression"]


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression (linear softmax classifier) with the solvers of ``sce_lib.optim``.

    Minimises C sum_n w_n CE(W x_n + b, y_n) + (1/2) ||W||_F^2 -- scikit-learn's
    ``LogisticRegression`` objective, the intercept not penalised -- by calling
    ``fit_softmax_regression`` with l2 = 1 / (C sum_n w_n) (``fit`` divides by C sum_n w_n).

    Parameters:
        C: inverse regularisation strength, > 0; ``math.inf`` means l2 = 0 (no penalty; on separable
            data no minimiser exists and the fit warns).  Default 1.0, scikit-learn's, so that the
            estimator can replace ``LogisticRegression`` unchanged.
        method: "auto", "gd", "nesterov", "newton", "newton-cg" or "lbfgs".
        tol, max_iter: as in ``fit_softmax_regression`` (None: the method's and dtype's default).
        fit_intercept: fit the biases b (default) or fix them at 0.
        warm_start: start the next ``fit`` from the last solution (when the classes and features match).

    Attributes (after ``fit``):
        classes_: (K,) the sorted labels (any hashable labels).  coef_: (K, d) (K rows also for two
        classes: the softmax parametrisation).  intercept_: (K,).  n_features_in_: d.
        n_iter_: iterations.  converged_: the result's ``converged``.  status_: its ``status``.

    Example:
        >>> import numpy as np
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array(["a", "b", "a", "b"])
        >>> clf = SoftmaxRegression(C=10.0).fit(X, y)
        >>> clf.classes_.tolist(), clf.predict([[0.0], [3.0]]).tolist(), clf.converged_
        (['a', 'b'], ['a', 'b'], True)

    Derived in: book/05-minimisation.md, §The problem and its conventions.
    """

    def __init__(self, C: float = 1.0, *, method: str = "auto", tol: float | None = None,
                 max_iter: int | None = None, fit_intercept: bool = True, warm_start: bool = False) -> None:
        self.C = C
        self.method = method
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SoftmaxRegression:
        """Fit to X (N, d) and labels y (N,); sample_weight (N,) >= 0 or None.  Returns self."""
        C = check_real(self.C, "C", minimum=0.0, strict_min=True, finite=False)
        check_option(self.method, "method", METHODS)
        check_bool(self.warm_start, "warm_start")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], accept_sparse=False)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y: expected samples of at least two classes, got 1 class ({classes[0]!r})")
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        total = float(sw.sum())
        l2 = 0.0 if C == math.inf else 1.0 / (C * total)
        init = None
        if self.warm_start and hasattr(self, "coef_") and np.array_equal(getattr(self, "classes_", None), classes) \
                and self.coef_.shape == (len(classes), X.shape[1]):
            init = (torch.tensor(self.coef_), torch.tensor(self.intercept_))  # copies (X may be read-only)
        res = fit_softmax_regression(torch.tensor(X), torch.tensor(y_idx, dtype=torch.int64), l2=l2,
                                     method=self.method, tol=self.tol, max_iter=self.max_iter,
                                     n_classes=len(classes), sample_weight=None if sample_weight is None else
                                     torch.tensor(sw), fit_intercept=self.fit_intercept, init=init)
        self.classes_ = classes
        self.coef_ = res.W.numpy()
        self.intercept_ = res.b.numpy()
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        self.status_ = res.status
        return self

    def _logits(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], accept_sparse=False, reset=False)
        return X @ self.coef_.T.astype(X.dtype) + self.intercept_.astype(X.dtype)

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits X W^T + b, (M, K); for two classes the (M,) logit difference z_1 - z_0."""
        Z = self._logits(X)  # first: it checks that the estimator is fitted
        return Z[:, 1] - Z[:, 0] if len(self.classes_) == 2 else Z

    def predict_proba(self, X: Any) -> np.ndarray:
        """softmax(X W^T + b), (M, K), columns in the order of ``classes_``."""
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log softmax(X W^T + b), (M, K), by log-sum-exp."""
        return log_softmax(self._logits(X), axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The label of the largest logit, (M,)."""
        Z = self._logits(X)  # first: it checks that the estimator is fitted
        return self.classes_[np.argmax(Z, axis=1)]
