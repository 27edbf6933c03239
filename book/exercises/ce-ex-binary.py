"""Tests of the ⌨ exercise ce-ex-binary (book/02-cross-entropy.md): two classes, the logistic loss.

Graded names, as the chapter's solution defines them: ``Z`` (N x 2 logits) and ``c`` (their labels), ``s``
(the scores z_0 - z_1), ``b`` (1 where the label is class 0) and ``bce`` (PyTorch's logistic loss of ``s``
with targets ``b``). The tests read ``bce`` (which the main text does not define) in every case and
check the conventions of s and b through the identities of the exercise: the K = 2 cross-entropy equals the
logistic loss of s, and its derivative in z_0 is sigmoid(s) - b. Tolerance 1e-12 absolute: the losses and
scores are at most a few tens, rounded in float64 to about 1e-14; the wrong sign of s or b changes a loss by
|s| (here never below 1e-9 for all samples together: the check is on the whole batch).
"""

NAMES = ("bce",)

PUBLIC = [
    """
    # s, b and bce are 1-D, one entry per sample
    import torch
    n = len(c)
    assert s.shape == b.shape == bce.shape == (n,), (tuple(s.shape), tuple(b.shape), tuple(bce.shape))
    assert bool(((b == 0) | (b == 1)).all()), "b holds 0s and 1s"
    """,
]

HIDDEN = [
    """
    import torch
    from sce_lib import cross_entropy
    assert torch.allclose(s, Z[:, 0] - Z[:, 1], rtol=0, atol=1e-12), "s = z_0 - z_1"
    assert torch.equal(b.to(torch.float64), (c == 0).to(torch.float64)), "b = 1 for class 0"
    assert len(bce) > 0 and torch.allclose(bce, cross_entropy(Z, c, reduction="none"), rtol=0, atol=1e-12)
    """,
    """
    import torch
    from sce_lib import ce_gradient
    assert len(bce) > 0 and torch.allclose(torch.sigmoid(s) - b, ce_gradient(Z, c)[:, 0], rtol=0, atol=1e-12)
    """,
]
