"""Tests of the ⌨ exercise cvl-ex-argmax-curvature (book/03-convexity-logits.md): where the curvature is largest.

Graded names, as the chapter's solution defines them: ``P`` (the grid on the simplex, M x 3), ``lam``
(lambda_max of diag(p) - p p^T at each grid point), ``top3`` (the three grid points with the largest
lambda_max) and ``centre`` (the eigenvalues at p = 1/3 1). Recomputed here with ``eigvalsh``; tolerance 1e-12
(eigenvalues of 3 x 3 float64 matrices with entries at most 1/4). The grid must contain the edge midpoints
(an even grid size), where lambda_max = 1/2 exactly.
"""

NAMES = ("P", "top3", "centre")

PUBLIC = [
    """
    # P is a grid on the simplex and lam has one value per grid point
    import torch
    assert P.ndim == 2 and P.shape[1] == 3 and lam.shape == (P.shape[0],), (tuple(P.shape), tuple(lam.shape))
    assert bool((P >= 0).all()) and torch.allclose(P.sum(dim=1), torch.ones(len(P), dtype=P.dtype), atol=1e-12)
    """,
]

HIDDEN = [
    """
    import torch
    Pd = P.to(torch.float64)
    H = torch.diag_embed(Pd) - Pd[:, :, None] * Pd[:, None, :]
    assert torch.allclose(lam.to(torch.float64), torch.linalg.eigvalsh(H)[:, -1], rtol=0, atol=1e-12)
    assert abs(float(lam.max()) - 0.5) < 1e-12
    """,
    """
    import torch
    mids = sorted([(0.0, 0.5, 0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)])
    got = sorted(tuple(round(float(x), 9) for x in row) for row in top3)
    assert got == mids, got
    assert abs(float(torch.as_tensor(centre).max()) - 1 / 3) < 1e-12, "lambda_max at the centre is 1/3"
    """,
]
