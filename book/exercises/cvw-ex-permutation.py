"""Tests of the ⌨ exercise cvw-ex-permutation (book/04-convexity-weights.md): averaging permuted copies.

Graded name, as the chapter's solution defines it: ``theta_bar`` (the average of theta_a of the library's
counterexample ``ce`` over both orders of its two hidden units, with ``swap_units`` of the main text). The
tests check its defining property (it is its own permuted copy and the mean of theta_a's two copies, to
1e-12: a mean of O(1) float64 numbers) and the contradiction the exercise asks for: its loss is at least
2 log(2) / 7, above L(theta_a).
"""

NAMES = ("theta_bar",)

PUBLIC = [
    """
    # theta_bar is a parameter vector of the counterexample's network
    assert theta_bar.shape == ce.theta_a.shape, tuple(theta_bar.shape)
    """,
]

HIDDEN = [
    """
    import torch
    assert torch.allclose(swap_units(theta_bar), theta_bar, rtol=0, atol=1e-12), "not invariant under the swap"
    assert torch.allclose(theta_bar, 0.5 * (ce.theta_a + swap_units(ce.theta_a)), rtol=0, atol=1e-12)
    """,
    """
    import math
    assert float(ce.loss(theta_bar)) >= 2 * math.log(2) / 7 > ce.loss_a
    """,
]
