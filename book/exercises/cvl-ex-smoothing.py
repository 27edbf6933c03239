"""Tests of the ⌨ exercise cvl-ex-smoothing (book/03-convexity-logits.md): label smoothing's finite minimiser.

Graded names, as the chapter's solution defines them: ``K``, ``eps``, ``label`` and ``z_star`` (the closed-form
minimiser on the hyperplane 1^T z = 0). The tests recompute the smoothed target from K, eps and label and
check z_star by its defining properties: on the hyperplane, softmax(z_star) = y_eps, zero gradient
(autograd through ``sce_lib.cross_entropy``). Tolerance 1e-12: O(1) float64 quantities.
"""

NAMES = ("z_star",)

PUBLIC = [
    """
    # z_star has K entries and lies on the hyperplane 1^T z = 0
    assert z_star.shape == (K,), tuple(z_star.shape)
    assert abs(float(z_star.sum())) < 1e-12, "z_star should sum to zero"
    """,
]

HIDDEN = [
    """
    import torch
    from sce_lib import softmax
    y = torch.full((K,), eps / K, dtype=torch.float64)
    y[label] += 1 - eps
    assert torch.allclose(softmax(z_star.to(torch.float64)), y, rtol=0, atol=1e-12), "softmax(z*) = y_eps"
    """,
    """
    import math
    import torch
    from sce_lib import cross_entropy
    zz = z_star.detach().to(torch.float64).clone()[None].requires_grad_(True)
    cross_entropy(zz, torch.tensor([label]), label_smoothing=eps).backward()
    assert float(zz.grad.norm()) < 1e-12, "the gradient vanishes at z*"
    gap = float(z_star[label] - z_star[(label + 1) % K])
    assert abs(gap - math.log((1 - eps + eps / K) / (eps / K))) < 1e-12, gap
    """,
]
