"""Tests of the ⌨ exercise cvw-ex-deep-linear (book/04-convexity-weights.md): deep linear networks.

Graded names, as the chapter's solution defines them: ``ell`` (the loss as a function of w = (v, a), a
tensor of two entries) and ``Hd`` (its Hessian at the origin, from autograd). ``ell`` is evaluated here at
points the student did not use and compared with log(1 + exp(-v a)); Hd with [[0, -1/2], [-1/2, 0]].
Tolerance 1e-12 (float64, O(1) values).
"""

NAMES = ("ell", "Hd")

PUBLIC = [
    """
    # Hd is the 2 x 2 Hessian at (v, a) = (0, 0)
    assert tuple(Hd.shape) == (2, 2), tuple(Hd.shape)
    """,
]

HIDDEN = [
    """
    import math
    import torch
    for v_, a_ in [(0.0, 0.0), (0.7, -1.3), (-2.0, -0.4)]:
        got = float(ell(torch.tensor([v_, a_], dtype=torch.float64)))
        assert abs(got - math.log1p(math.exp(-v_ * a_))) < 1e-12, (v_, a_, got)
    """,
    """
    import torch
    expected = torch.tensor([[0.0, -0.5], [-0.5, 0.0]], dtype=torch.float64)
    assert torch.allclose(Hd.to(torch.float64), expected, rtol=0, atol=1e-12), Hd
    """,
]
