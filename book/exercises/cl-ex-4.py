"""Tests of the ⌨ exercise cl-ex-4 (book/07-claims.md): m labels through one softmax.

Graded names, as the chapter's solution defines them (after its loop over m = 1, 2, 3, at the last m):
``y_m`` (the target with m labels present, normalised) and ``z_m`` (the logits found by
``fit_free_logits``). The tests check the prediction of the claim for that m: the loss at z_m is at least
log m (to rounding, 1e-12) and within 0.01 of it, and each present label gets probability 1/m within 0.01
(the chapter's tolerances for 1000 steps of the optimiser). Only the last m is graded: see the report.
"""

NAMES = ("y_m", "z_m")

PUBLIC = [
    """
    # y_m is a normalised target with m labels present out of K = 6, z_m six logits
    import torch
    assert y_m.shape == (6,) and z_m.shape == (6,), (tuple(y_m.shape), tuple(z_m.shape))
    assert abs(float(y_m.sum()) - 1) < 1e-12, "normalise the target"
    """,
]

HIDDEN = [
    """
    import math
    m_ = int((y_m > 0).sum())
    loss_ = float(cross_entropy(z_m[None, :], y_m[None, :]))
    assert math.log(m_) - 1e-12 <= loss_ < math.log(m_) + 0.01, (m_, loss_)
    """,
    """
    p_ = softmax(z_m)
    m_ = int((y_m > 0).sum())
    assert float((p_[y_m > 0] - 1 / m_).abs().max()) < 0.01, p_
    """,
]
