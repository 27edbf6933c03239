"""Tests of the ⌨ exercise fd-ex-ggn (book/02b-foundations.md): the Fisher and the Hessian of one hidden layer.

Graded names, as the chapter's solution defines them: ``network`` (flat parameters -> (N, K) logits),
``theta`` (the random parameter vector), ``X_g``, ``y_g`` (the mixture), ``fisher`` (the true Fisher),
``G`` (the generalised Gauss-Newton matrix) and ``hessian`` (of the mean loss). The Gauss-Newton matrix and
the Hessian are recomputed here from the student's ``network`` and ``theta`` (autograd and
``sce_lib.ce_hessian``); tolerance 1e-12 times the Hessian's largest entry, rounding level for these
float64 sums of a few hundred terms (the chapter's run agrees to 1e-14).
"""

NAMES = ("G", "hessian", "theta")

PUBLIC = [
    """
    # F, G and the Hessian are P x P, P the number of parameters
    P = theta.numel()
    assert fisher.shape == G.shape == hessian.shape == (P, P), (tuple(fisher.shape), tuple(G.shape), tuple(hessian.shape))
    """,
]

HIDDEN = [
    """
    import torch
    from sce_lib import ce_hessian
    scale = max(1.0, float(hessian.abs().max()))
    Z0 = network(theta).detach()
    J0 = torch.autograd.functional.jacobian(network, theta)
    G0 = torch.einsum("nkp,nkl,nlq->pq", J0, ce_hessian(Z0), J0) / Z0.shape[0]
    assert torch.allclose(G, G0, rtol=0, atol=1e-12 * scale), "G is not J^T H J / N"
    assert torch.allclose(fisher, G0, rtol=0, atol=1e-12 * scale), "the Fisher equals G"
    """,
    """
    import torch
    from sce_lib import cross_entropy
    scale = max(1.0, float(hessian.abs().max()))
    H0 = torch.autograd.functional.hessian(lambda th: cross_entropy(network(th), y_g), theta)
    assert torch.allclose(hessian, H0, rtol=0, atol=1e-12 * scale), "not the Hessian of the mean loss"
    assert float(torch.linalg.eigvalsh(G)[0]) >= -1e-12 * scale, "G is positive semidefinite"
    assert float(torch.linalg.eigvalsh(hessian)[0]) < -1e-3, "this Hessian is indefinite"
    """,
]
