"""Tests of the ⌨ exercise ce-ex-smoothing-minimum (book/02-cross-entropy.md): the smoothed loss's minimum.

Graded names, as the chapter's solution defines them: ``closed_form`` (the minimum H(y_eps) for K = 10,
eps = 0.1), ``final`` (the minimum found by L-BFGS) and ``margin`` (the K - 1 margins z_c - z_j at it).
The closed form is recomputed here from its definition to 1e-12; the L-BFGS value must agree to 1e-8
(the chapter's run reaches 1e-10), the margins with log 91 to 1e-4 (the chapter's run reaches 1e-5).
"""

NAMES = ("closed_form", "final", "margin")

PUBLIC = [
    """
    # the L-BFGS minimum cannot be below the true minimum
    assert final >= closed_form - 1e-10, (final, closed_form)
    assert len(margin.reshape(-1)) == 9, "one margin per other class (K = 10)"
    """,
]

HIDDEN = [
    """
    import math
    a, b = 1 - 0.1 + 0.1 / 10, 0.1 / 10
    assert abs(closed_form - (-a * math.log(a) - 9 * b * math.log(b))) < 1e-12, closed_form
    """,
    """
    import math
    assert abs(final - closed_form) < 1e-8, (final, closed_form)
    assert float((margin - math.log(91)).abs().max()) < 1e-4, margin
    """,
]
