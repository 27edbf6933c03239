"""sce_lib.linear (the linear softmax classifier) against torch.autograd, torch.func and finite differences.

Tolerances as in test_derivatives: two float64 evaluations of the same formula in different orders
agree to ~1e-15 (we allow 1e-12); central differences with h = 1e-5 to ~1e-10 (we allow 1e-7).
The reference loss is written independently with torch.nn.functional.cross_entropy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import sce_lib
from sce_lib import (
    ce_hessian,
    linear_ce_gradient,
    linear_ce_hessian,
    linear_ce_hvp,
    linear_ce_loss,
    pack_theta,
    unpack_theta,
)
from test_derivatives import AUTOGRAD_TOL, F64, FD_TOL, central_jacobian


def _problem(gen: torch.Generator, n: int = 12, d: int = 3, k: int = 4):
    W = torch.randn(k, d, generator=gen, dtype=F64)
    b = torch.randn(k, generator=gen, dtype=F64)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    y = torch.randint(0, k, (n,), generator=gen)
    return W, b, X, y


def _torch_linear_loss(X: torch.Tensor, y: torch.Tensor, l2: float, k: int, d: int):
    """The same loss written independently with torch.nn.functional, as a function of theta."""

    def loss(theta: torch.Tensor) -> torch.Tensor:
        W, b = unpack_theta(theta, k, d)
        return F.cross_entropy(X @ W.T + b, y) + 0.5 * l2 * (W**2).sum()

    return loss


# --------------------------------------------------------------------------- layout


def test_pack_theta_is_the_documented_layout(gen: torch.Generator) -> None:
    W, b, _, _ = _problem(gen, d=3, k=4)
    theta = pack_theta(W, b)
    assert theta.shape == (4 * 4,)
    for k in range(4):  # theta[k (d+1) + i] is W[k, i] for i < d and b[k] for i = d
        for i in range(3):
            assert theta[k * 4 + i] == W[k, i]
        assert theta[k * 4 + 3] == b[k]


def test_unpack_theta_inverts_pack_theta_and_returns_views(gen: torch.Generator) -> None:
    W, b, _, _ = _problem(gen, d=3, k=4)
    theta = pack_theta(W, b)
    W2, b2 = unpack_theta(theta, 4, 3)
    assert torch.equal(W2, W) and torch.equal(b2, b)
    assert W2.data_ptr() == theta.data_ptr()  # a view: no copy
    Ws, bs = unpack_theta(theta.reshape(4, 4), np.int64(4), np.int64(3))  # the (K, d+1) form, numpy ints
    assert torch.equal(Ws, W) and torch.equal(bs, b)
    # a bias-only model (d = 0) and integer lists (float64, as everywhere)
    assert pack_theta(torch.zeros(2, 0), [1.0, 2.0]).tolist() == [1.0, 2.0]
    assert pack_theta([[1, 2]], [3]).dtype == torch.float64


def test_pack_theta_is_differentiable_and_works_under_torch_func(gen: torch.Generator) -> None:
    W, b, X, y = _problem(gen)
    k, d = W.shape
    Wr, br = W.clone().requires_grad_(), b.clone().requires_grad_()
    v = torch.randn(k * (d + 1), generator=gen, dtype=F64)
    gW, gb = torch.autograd.grad(pack_theta(Wr, br) @ v, (Wr, br))
    Vw, vb = unpack_theta(v, k, d)
    assert torch.equal(gW, Vw) and torch.equal(gb, vb)
    # per-sample unpacking under vmap (no data-dependent checks in the layout functions)
    thetas = torch.randn(5, k * (d + 1), generator=gen, dtype=F64)
    Ws, bs = torch.func.vmap(lambda t: unpack_theta(t, k, d))(thetas)
    assert torch.equal(Ws[2], thetas[2].reshape(k, d + 1)[:, :d]) and torch.equal(bs[4], thetas[4].reshape(k, d + 1)[:, d])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: pack_theta(torch.zeros(3), torch.zeros(3)), ValueError, r"W: expected a 2-D tensor of shape \(K, d\), got shape \(3,\)"),
        (lambda: pack_theta(torch.zeros(3, 2), torch.zeros(2)), ValueError, r"b: expected shape \(K,\) = \(3,\)"),
        (lambda: pack_theta(torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, dtype=torch.float32)), TypeError,
         r"b: expected dtype torch.float64 \(the dtype of W\), got torch.float32"),
        (lambda: pack_theta(torch.zeros(3, 2, dtype=torch.bool), torch.zeros(3)), TypeError, r"W: expected a real floating-point tensor, got dtype torch.bool"),
        (lambda: pack_theta([[True, False]], [1.0]), TypeError, r"W: expected a real floating-point tensor, got a nested list holding bools"),
        (lambda: unpack_theta(torch.zeros(7), 2, 3), ValueError, r"theta: expected shape \(K\(d\+1\),\) = \(8,\) or \(K, d\+1\) = \(2, 4\), got \(7,\)"),
        (lambda: unpack_theta(torch.zeros(8), 2.0, 3), TypeError, r"K: expected an int >= 1, got float \(2.0\)"),
        (lambda: unpack_theta(torch.zeros(8), 2, -1), ValueError, r"d: expected an int >= 0, got -1"),
    ],
)
def test_layout_bad_input(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- loss and derivatives


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_linear_loss_and_gradient_match_torch_and_fd(gen: torch.Generator, l2: float) -> None:
    W, b, X, y = _problem(gen)
    k, d = W.shape
    f = _torch_linear_loss(X, y, l2, k, d)
    theta = pack_theta(W, b)
    torch.testing.assert_close(linear_ce_loss(W, b, X, y, l2), f(theta), **AUTOGRAD_TOL)
    dW, db = linear_ce_gradient(W, b, X, y, l2)
    assert dW.shape == (k, d) and db.shape == (k,)
    dW_ref, db_ref = unpack_theta(torch.autograd.functional.jacobian(f, theta), k, d)
    torch.testing.assert_close(dW, dW_ref, **AUTOGRAD_TOL)
    torch.testing.assert_close(db, db_ref, **AUTOGRAD_TOL)
    fd = central_jacobian(lambda t: linear_ce_loss(*unpack_theta(t, k, d), X, y, l2), theta)
    torch.testing.assert_close(pack_theta(dW, db), fd, **FD_TOL)
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
    theta = pack_theta(W, b)
    Hm = linear_ce_hessian(W, b, X, y, l2)
    assert Hm.shape == (k * (d + 1), k * (d + 1))
    torch.testing.assert_close(Hm, torch.autograd.functional.hessian(f, theta), **AUTOGRAD_TOL)
    torch.testing.assert_close(Hm, torch.func.hessian(f)(theta), **AUTOGRAD_TOL)
    fd = central_jacobian(lambda t: pack_theta(*linear_ce_gradient(*unpack_theta(t, k, d), X, y, l2)), theta)
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
    _, ref = torch.autograd.functional.hvp(f, pack_theta(W, b), v)
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




def test_old_import_path() -> None:
    # the linear classifier moved out of sce_lib.derivatives; the old path names the same objects
    from sce_lib.derivatives import linear_ce_hvp as old_hvp

    assert old_hvp is linear_ce_hvp is sce_lib.linear.linear_ce_hvp
