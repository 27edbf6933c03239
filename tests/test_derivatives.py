"""sce_lib.derivatives against torch.autograd and central finite differences (float64).

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
from sce_lib import (
    ce_gradient,
    ce_hessian,
    cross_entropy,
    linear_ce_gradient,
    linear_ce_hessian,
    linear_ce_hvp,
    linear_ce_loss,
    softmax_jacobian,
)

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


def _problem(gen: torch.Generator, n: int = 12, d: int = 3, k: int = 4):
    W = torch.randn(k, d, generator=gen, dtype=F64)
    b = torch.randn(k, generator=gen, dtype=F64)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    y = torch.randint(0, k, (n,), generator=gen)
    return W, b, X, y


def _torch_linear_loss(X: torch.Tensor, y: torch.Tensor, l2: float, k: int, d: int):
    """The same loss written independently with torch.nn.functional, as a function of theta."""

    def loss(theta: torch.Tensor) -> torch.Tensor:
        W, b = _split(theta, k, d)
        return F.cross_entropy(X @ W.T + b, y) + 0.5 * l2 * (W**2).sum()

    return loss


def _theta(W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cat([W, b[:, None]], dim=1).reshape(-1)


def _split(theta: torch.Tensor, k: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of _theta: (W (K, d), b (K,))."""
    T = theta.reshape(k, d + 1)
    return T[:, :d], T[:, d]


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
    torch.testing.assert_close(Hs, softmax_jacobian(z), rtol=0, atol=0)  # the same matrix
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


# --------------------------------------------------------------------------- linear model


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_linear_loss_and_gradient_match_torch_and_fd(gen: torch.Generator, l2: float) -> None:
    W, b, X, y = _problem(gen)
    k, d = W.shape
    f = _torch_linear_loss(X, y, l2, k, d)
    theta = _theta(W, b)
    torch.testing.assert_close(linear_ce_loss(W, b, X, y, l2), f(theta), **AUTOGRAD_TOL)
    dW, db = linear_ce_gradient(W, b, X, y, l2)
    assert dW.shape == (k, d) and db.shape == (k,)
    ref = torch.autograd.functional.jacobian(f, theta).reshape(k, d + 1)
    torch.testing.assert_close(dW, ref[:, :d], **AUTOGRAD_TOL)
    torch.testing.assert_close(db, ref[:, d], **AUTOGRAD_TOL)
    fd = central_jacobian(lambda t: linear_ce_loss(*_split(t, k, d), X, y, l2), theta)
    torch.testing.assert_close(_theta(dW, db), fd, **FD_TOL)
    # the loss is differentiable by autograd in W, b and X
    Wr, br = W.clone().requires_grad_(), b.clone().requires_grad_()
    gW, gb = torch.autograd.grad(linear_ce_loss(Wr, br, X, y, l2), (Wr, br))
    torch.testing.assert_close(gW, dW, **AUTOGRAD_TOL)
    torch.testing.assert_close(gb, db, **AUTOGRAD_TOL)


# torch.func's forward-mode decompositions call torch.jit.script once, which warns in torch 2.13.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_linear_hessian_matches_autograd_func_and_fd(gen: torch.Generator, l2: float) -> None:
    W, b, X, y = _problem(gen)
    k, d = W.shape
    f = _torch_linear_loss(X, y, l2, k, d)
    theta = _theta(W, b)
    Hm = linear_ce_hessian(W, b, X, y, l2)
    assert Hm.shape == (k * (d + 1), k * (d + 1))
    torch.testing.assert_close(Hm, torch.autograd.functional.hessian(f, theta), **AUTOGRAD_TOL)
    torch.testing.assert_close(Hm, torch.func.hessian(f)(theta), **AUTOGRAD_TOL)
    fd = central_jacobian(lambda t: _theta(*linear_ce_gradient(*_split(t, k, d), X, y, l2)), theta)
    torch.testing.assert_close(Hm, fd, **FD_TOL)


def test_linear_hessian_is_the_kronecker_sum(gen: torch.Generator) -> None:
    """H = (1/N) sum_n H_n kron x~_n x~_n^T, written literally, for a small problem."""
    W, b, X, y = _problem(gen, n=5, d=2, k=3)
    Xt = torch.cat([X, torch.ones(5, 1, dtype=F64)], dim=1)
    Hn = ce_hessian(X @ W.T + b)
    literal = sum(torch.kron(Hn[n], torch.outer(Xt[n], Xt[n])) for n in range(5)) / 5
    torch.testing.assert_close(linear_ce_hessian(W, b, X, y), literal, **AUTOGRAD_TOL)


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_linear_hvp_matches_double_backward(gen: torch.Generator, l2: float) -> None:
    W, b, X, y = _problem(gen)
    k, d = W.shape
    f = _torch_linear_loss(X, y, l2, k, d)
    v = torch.randn(k * (d + 1), generator=gen, dtype=F64)
    _, ref = torch.autograd.functional.hvp(f, _theta(W, b), v)
    flat = linear_ce_hvp(W, b, X, y, v, l2)
    assert flat.shape == v.shape
    torch.testing.assert_close(flat, ref, **AUTOGRAD_TOL)
    square = linear_ce_hvp(W, b, X, y, v.reshape(k, d + 1), l2)
    assert square.shape == (k, d + 1)
    torch.testing.assert_close(square.reshape(-1), ref, **AUTOGRAD_TOL)


def test_l2_acts_on_weights_only(gen: torch.Generator) -> None:
    W, b, X, y = _problem(gen)
    k, d = W.shape
    diff = linear_ce_hessian(W, b, X, y, 0.7) - linear_ce_hessian(W, b, X, y, 0.0)
    mask = torch.ones(k, d + 1, dtype=F64)
    mask[:, d] = 0
    torch.testing.assert_close(diff, 0.7 * torch.diag(mask.reshape(-1)), rtol=0, atol=1e-15)
    dW0, db0 = linear_ce_gradient(W, b, X, y, 0.0)
    dW1, db1 = linear_ce_gradient(W, b, X, y, 0.7)
    torch.testing.assert_close(dW1 - dW0, 0.7 * W)
    assert torch.equal(db1, db0)
    torch.testing.assert_close(linear_ce_loss(W, b, X, y, 0.7) - linear_ce_loss(W, b, X, y), 0.35 * (W**2).sum())


def test_ce_gradient_near_certainty_keeps_relative_accuracy() -> None:
    # p_c - 1 = -sum_{j != c} p_j: here -(e^-40 + e^-45)/(1 + e^-40 + e^-45), not 0.
    z = torch.tensor([[40.0, 0.0, -5.0]], dtype=F64)
    g = ce_gradient(z, [0])
    t = torch.tensor([-40.0, -45.0], dtype=F64).exp()
    torch.testing.assert_close(g[0, 0], -t.sum() / (1 + t.sum()), rtol=1e-15, atol=0)
    torch.testing.assert_close(g[0, 1:], t / (1 + t.sum()), rtol=1e-15, atol=0)
