"""Tests of the ⌨ exercise min-ex-warm (book/05-minimisation.md): warm starts along a λ path.

Graded names, as the chapter's solution defines them: ``cold_fits`` and ``warm_fits``, the three fits of
the digits at λ = 1e-1, 1e-2, 1e-3 from 0 and from the previous solution. The public case checks their
form; the hidden cases check what the exercise asks to compare: the same objective (both converged, to a
relative 1e-10: the stopping rule bounds the gradient, and near a strongly convex minimiser the
objective's error is quadratic in it) and fewer iterations after the first warm start.
"""

NAMES = ("cold_fits", "warm_fits")

PUBLIC = [
    """
    assert len(cold_fits) == 3 and len(warm_fits) == 3
    assert all(hasattr(r, "loss") and hasattr(r, "n_iter") for r in [*cold_fits, *warm_fits])
    """,
]

HIDDEN = [
    """
    assert [round(r.l2, 12) for r in cold_fits] == [0.1, 0.01, 0.001] == [round(r.l2, 12) for r in warm_fits]
    assert all(r.converged for r in [*cold_fits, *warm_fits])
    assert all(abs(c.loss - w.loss) <= 1e-10 * c.loss for c, w in zip(cold_fits, warm_fits))
    """,
    """
    assert sum(r.n_iter for r in warm_fits[1:]) < sum(r.n_iter for r in cold_fits[1:])
    """,
]
