"""sce_lib.derivatives (the logit derivatives) against torch.autograd and central finite differences (float64).

Tolerances: autograd comparisons are between two float64 evaluations of the same
formula in different orders, so they agree to ~1e-15; we allow 1e-12.  Central
differences with step h have truncation error O(h^2 f''') and rounding error
O(eps/h); h = 1e-5 balances them at ~1e-10, so we allow 1e-7 (absolute and relative).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import sce_lib
from sce_lib import ce_gradient, ce_hessian, cross_entropy, softmax_jacobian

F64 = torch.float64
AUTOGRAD_TOL = dict(rtol=1e-12, atol=1e-12)
FD_TOL = dict(rtol=1e-7, atol=1e-7)
H = 1e-5


def central_jacobian(f, x: torch.Tensor, h: float = H) -> torch.Tensor:
    """d f / d x by central differences: (f(x + h e_i) - f(x - h e_i)) / 2h.  -> f.shape + x.shape"""
    cols = []
    flat = x.reshape(-1)
    for i in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[i] = h
        cols.append((f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * h))
    return torch.stack(cols, dim=-1).reshape(*cols[0].shape, *x.shape)


# --------------------------------------------------------------------------- logits


def test_softmax_jacobian_matches_autograd_and_fd(gen: torch.Generator) -> None:
    z = 2 * torch.randn(3, 5, generator=gen, dtype=F64)
    J = softmax_jacobian(z)
    assert J.shape == (3, 5, 5)
    for n in range(3):
        ref = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, -1), z[n])
        torch.testing.assert_close(J[n], ref, **AUTOGRAD_TOL)
        torch.testing.assert_close(J[n], central_jacobian(lambda v: sce_lib.softmax(v), z[n]), **FD_TOL)


def test_autograd_through_sce_lib_softmax_family(gen: torch.Generator) -> None:
    """The accurate forms (TwoSum, log1p) are differentiable and give the textbook derivatives."""
    z = 2 * torch.randn(5, generator=gen, dtype=F64)
    J = softmax_jacobian(z)
    torch.testing.assert_close(torch.autograd.functional.jacobian(sce_lib.softmax, z), J, **AUTOGRAD_TOL)
    p = sce_lib.softmax(z)
    J_log = torch.eye(5, dtype=F64) - p[None, :]  # d log p_i / d z_j = delta_ij - p_j
    torch.testing.assert_close(torch.autograd.functional.jacobian(sce_lib.log_softmax, z), J_log, **AUTOGRAD_TOL)
    torch.testing.assert_close(torch.autograd.functional.jacobian(sce_lib.logsumexp, z), p, **AUTOGRAD_TOL)
    torch.testing.assert_close(torch.autograd.functional.hessian(sce_lib.logsumexp, z), J, **AUTOGRAD_TOL)


@pytest.mark.parametrize("soft", [False, True])
def test_ce_gradient_matches_autograd_and_fd(gen: torch.Generator, soft: bool) -> None:
    z = 2 * torch.randn(6, 4, generator=gen, dtype=F64)
    y = torch.softmax(torch.randn(6, 4, generator=gen, dtype=F64), 1) if soft else torch.randint(0, 4, (6,), generator=gen)
    g = ce_gradient(z, y)
    zz = z.clone().requires_grad_()
    (ref,) = torch.autograd.grad(F.cross_entropy(zz, y, reduction="sum"), zz)
    torch.testing.assert_close(g, ref, **AUTOGRAD_TOL)
    fd = central_jacobian(lambda v: cross_entropy(v, y, reduction="sum"), z)
    torch.testing.assert_close(g, fd, **FD_TOL)
    torch.testing.assert_close(g.sum(dim=1), torch.zeros(6, dtype=F64), rtol=0, atol=1e-15)


def test_ce_hessian_matches_autograd_fd_and_double_backward(gen: torch.Generator) -> None:
    z = 2 * torch.randn(4, 5, generator=gen, dtype=F64)
    y = torch.randint(0, 5, (4,), generator=gen)
    Hs = ce_hessian(z)
    assert Hs.shape == (4, 5, 5)
    for n in range(4):
        target = y[n : n + 1]
        ref = torch.autograd.functional.hessian(lambda v: F.cross_entropy(v[None], target), z[n])
        torch.testing.assert_close(Hs[n], ref, **AUTOGRAD_TOL)
        # sce_lib.cross_entropy is twice differentiable and gives the same Hessian
        ours = torch.autograd.functional.hessian(lambda v: cross_entropy(v[None], target), z[n])
        torch.testing.assert_close(Hs[n], ours, **AUTOGRAD_TOL)
        fd = central_jacobian(lambda v: ce_gradient(v[None], target)[0], z[n])
        torch.testing.assert_close(Hs[n], fd, **FD_TOL)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_double_backward_hvp(gen: torch.Generator, label_smoothing: float) -> None:
    z = 2 * torch.randn(5, 3, generator=gen, dtype=F64)
    y = torch.randint(0, 3, (5,), generator=gen)
    v = torch.randn(5, 3, generator=gen, dtype=F64)
    _, hv = torch.autograd.functional.hvp(lambda q: cross_entropy(q, y, label_smoothing=label_smoothing), z, v)
    want = torch.einsum("nij,nj->ni", ce_hessian(z), v) / 5
    torch.testing.assert_close(hv, want, **AUTOGRAD_TOL)


def test_ce_gradient_near_certainty_keeps_relative_accuracy() -> None:
    # p_c - 1 = -sum_{j != c} p_j: here -(e^-40 + e^-45)/(1 + e^-40 + e^-45), not 0.
    z = torch.tensor([[40.0, 0.0, -5.0]], dtype=F64)
    g = ce_gradient(z, [0])
    t = torch.tensor([-40.0, -45.0], dtype=F64).exp()
    torch.testing.assert_close(g[0, 0], -t.sum() / (1 + t.sum()), rtol=1e-15, atol=0)
    torch.testing.assert_close(g[0, 1:], t / (1 + t.sum()), rtol=1e-15, atol=0)
