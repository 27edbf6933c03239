"""Tests of the ⌨ exercise sm-ex-log-softmax-jacobian (book/01-softmax.md): the Jacobian of log-softmax.

Graded names, as the chapter's solution defines them: ``z`` (the logits, a 1-D float64 tensor), ``A`` (the
Jacobian of log-softmax at ``z``, the (K, K) matrix I - 1 p^T) and ``eig`` (its eigenvalues). The tests
compare with autograd at the student's own ``z``; tolerance 1e-12: the entries are bounded by 1 in size and
a float64 computation is exact to a few 1e-16, while the transposed matrix I - p 1^T, or a float32
computation, is off by more than 1e-8.
"""

NAMES = ("A", "eig")

PUBLIC = [
    """
    # A is the (K, K) Jacobian at your z, a float64 tensor
    import torch
    assert isinstance(A, torch.Tensor) and A.dtype == torch.float64, "A should be a float64 tensor"
    assert A.shape == (z.numel(), z.numel()), f"A should be (K, K) with K = z.numel(); got {tuple(A.shape)}"
    """,
    """
    # A maps the all-ones vector to zero (its rows sum to zero)
    import torch
    assert torch.allclose(A.sum(dim=1), torch.zeros(A.shape[0], dtype=A.dtype), rtol=0, atol=1e-12), A.sum(dim=1)
    """,
]

HIDDEN = [
    """
    import torch
    J = torch.autograd.functional.jacobian(lambda u: torch.log_softmax(u, dim=-1), z.detach().to(torch.float64))
    assert torch.allclose(A, J, rtol=0, atol=1e-12), "A is not the Jacobian of log-softmax at z"
    """,
    """
    import torch
    ev = torch.sort(torch.as_tensor(eig).real.to(torch.float64)).values
    expected = torch.tensor([0.0] + [1.0] * (z.numel() - 1), dtype=torch.float64)
    assert ev.shape == expected.shape and torch.allclose(ev, expected, rtol=0, atol=1e-9), ev
    assert torch.allclose(A @ A, A, rtol=0, atol=1e-12), "A is idempotent"
    """,
]
