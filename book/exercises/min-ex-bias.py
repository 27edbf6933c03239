"""Tests of the ⌨ exercise min-ex-bias (book/05-minimisation.md): the bias never drifts.

Graded names, as the chapter's solution defines them: ``fit_all`` (a function of ``(X, y, l2)`` returning
{method: FitResult} for "gd", "nesterov", "newton-cg" and "lbfgs", each from theta_0 = 0 with at most 200
iterations) and ``fits`` (its result on the digits at the chapter's ``L2``).

What must hold for every correct answer, checked against a recomputation that does not go through the
student's code: each fit is a fit of the data it was given (its loss, recomputed with ``linear_ce_loss`` on
the digits at ``L2``, or on the new problem below, equals the fit's own to a relative 1e-12: the loss is an
O(1) mean of O(1) terms in float64, rounded to a few 1e-16, while another l2 or other data changes it by far
more); the bias moved (max_k |b_k| > 1e-3: the optimal biases of both problems, and the iterates after
200 steps, are O(0.1) or more, so a bias left at zero fails) and its sum stayed zero to 1e-12
(at most 200 steps, each adding rounding of a few 1e-16 per entry to O(1) biases; the chapter asserts the
same bound). The second hidden case calls ``fit_all`` on an input the student did not see: 90 samples, 3
features, 3 classes of 18, 18 and 54 samples (a deterministic design: no seed), l2 = 0.05; an answer that
ignores its arguments (fits the digits whatever it is given) or a method that lets the bias sum drift fails.
"""

NAMES = ("fits", "fit_all")

PUBLIC = [
    """
    # fits holds the four methods' fits on the digits, keyed by method name
    assert isinstance(fits, dict) and set(fits) == {"gd", "nesterov", "newton-cg", "lbfgs"}, sorted(fits)
    assert all(tuple(r.b.shape) == (10,) and tuple(r.W.shape) == (10, 64) for r in fits.values())
    """,
    """
    # fit_all is a function of (X, y, l2)
    assert callable(fit_all), "fit_all should be a function"
    """,
]

HIDDEN = [
    """
    from sce_lib import linear_ce_loss
    from sce_lib.data import digits
    Xd, yd = digits()
    for name, r in fits.items():
        assert r.method == name, (name, r.method)
        f = linear_ce_loss(r.W, r.b, Xd, yd, L2).item()
        assert abs(f - r.loss) <= 1e-12 * abs(f), (name, "not a fit of the digits at L2", f, r.loss)
        assert abs(r.b.sum().item()) < 1e-12 and r.b.abs().max().item() > 1e-3, (name, r.b)
    """,
    """
    import warnings
    import torch
    from sce_lib import linear_ce_loss
    t = torch.arange(90, dtype=torch.float64)
    X_new = torch.stack([torch.sin(0.7 * t), torch.cos(1.3 * t) + 2.0, torch.sin(0.011 * t * t)], dim=1)
    y_new = (t.long() % 5).clamp(max=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = fit_all(X_new, y_new, 0.05)
    assert set(new) == {"gd", "nesterov", "newton-cg", "lbfgs"}, sorted(new)
    for name, r in new.items():
        f = linear_ce_loss(r.W, r.b, X_new, y_new, 0.05).item()
        assert abs(f - r.loss) <= 1e-12 * abs(f), (name, "not a fit of the data given", f, r.loss)
        assert r.method == name and r.b.abs().max().item() > 1e-3, (name, r.b)
        assert abs(r.b.sum().item()) < 1e-12, (name, r.b.sum().item())
    """,
]
