"""Tests of the ⌨ exercise cvw-ex-duplicate (book/04-convexity-weights.md): a duplicated feature.

Graded names, as the chapter's solution defines them: ``X_dup`` (the digits with column 10 appended),
``r_dup`` (the rank of [X_dup, 1]), ``pred`` (the predicted number of null directions of the Hessian) and
``count`` (the counted number). The prediction is recomputed here from the theorem,
(d + 1) + (K - 1)(d + 1 - r) with d = 65 and the rank r of the main text; exact integers.
"""

NAMES = ("X_dup", "pred", "count")

PUBLIC = [
    """
    # X_dup is the digits with one more column
    assert X_dup.shape == (X.shape[0], X.shape[1] + 1), tuple(X_dup.shape)
    """,
]

HIDDEN = [
    """
    import torch
    assert torch.equal(X_dup, torch.cat([X, X[:, 10:11]], dim=1)), "append a copy of column 10"
    assert r_dup == r, "the rank does not change"
    """,
    """
    d_new = X.shape[1] + 1
    expected = (d_new + 1) + (K - 1) * (d_new + 1 - r)
    assert pred == expected and count == expected, (pred, count, expected)
    """,
]
