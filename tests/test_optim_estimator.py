"""``sce_lib.optim.SoftmaxRegression``: scikit-learn's own conventions test, a Pipeline with GridSearchCV,
and agreement with ``LogisticRegression`` (the objective it claims to minimise)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from sce_lib import ConvergenceWarning
from sce_lib.data import digits, separable_toy
from sce_lib.optim import SoftmaxRegression


def test_check_estimator_passes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # some checks fit on 1-2 samples on purpose
        check_estimator(SoftmaxRegression(), on_skip=None)  # skipped: the pandas checks (pandas is not a dependency)


def test_matches_logistic_regression_with_weights_and_labels() -> None:
    X, y = digits()
    X, y = X.numpy()[::3], y.numpy()[::3]
    labels = np.array(list("abcdefghij"))[y]
    w = np.linspace(0.5, 2.0, len(y))
    ours = SoftmaxRegression(C=0.5).fit(X, labels, sample_weight=w)
    sk = LogisticRegression(C=0.5, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, labels, sample_weight=w)
    assert ours.converged_ and list(ours.classes_) == list(sk.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(ours.coef_, sk.coef_ - sk.coef_.mean(axis=0), atol=1e-6)
    assert (ours.predict(X) == sk.predict(X)).all()


def test_pipeline_with_grid_search() -> None:
    X, y = digits(standardize=False)
    X, y = X.numpy(), y.numpy()
    pipe = make_pipeline(StandardScaler(), SoftmaxRegression())
    grid = GridSearchCV(pipe, {"softmaxregression__C": [0.01, 1.0], "softmaxregression__method": ["newton-cg", "lbfgs"]},
                        cv=3).fit(X, y)
    assert set(grid.best_params_) == {"softmaxregression__C", "softmaxregression__method"}
    assert grid.best_score_ > 0.9
    assert grid.best_estimator_[-1].converged_ and grid.score(X, y) > 0.95


def test_warm_start_reuses_the_solution() -> None:
    X, y = digits()
    X, y = X.numpy(), y.numpy()
    clf = SoftmaxRegression(C=1.0, method="newton-cg", warm_start=True).fit(X, y)
    first = clf.n_iter_
    clf.fit(X, y)
    assert clf.n_iter_ == 0 < first and clf.converged_
    clf.set_params(C=2.0).fit(X, y)
    cold = SoftmaxRegression(C=2.0, method="newton-cg").fit(X, y)
    assert clf.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(clf.predict_proba(X), cold.predict_proba(X), atol=1e-8)


def test_no_penalty_on_separable_data_says_so() -> None:
    X, y, _, _ = separable_toy(seed=0)
    with pytest.warns(ConvergenceWarning, match="linearly separable"):
        clf = SoftmaxRegression(C=math.inf, method="newton").fit(X.numpy(), y.numpy())
    assert not clf.converged_ and clf.status_ == "separable"


def test_bad_parameters_are_refused() -> None:
    X, y = digits()
    with pytest.raises(ValueError, match="C: expected a number > 0"):
        SoftmaxRegression(C=0.0).fit(X.numpy(), y.numpy())
    with pytest.raises(ValueError, match="method: expected one of"):
        SoftmaxRegression(method="sag").fit(X.numpy(), y.numpy())
