"""Behaviours that the mutation run (``make mutation``, tests/mutation/survivors.md) found unpinned.

Each test asserts a documented property of the library, with its tolerance justified inline:
the componentwise accuracy of ``ce_gradient`` also when the logits require a gradient (and its
derivative, the Hessian), half-precision results computed in float32 and rounded once (the
gradient's dtype, a batch mean, the smoothed soft-target gradient), the default ``l2``, the shapes
``ce_hessian`` accepts, ``vmap`` of the softmax family over a non-last class dimension, the target
gradient at a class of probability 0, and the error for a missing attribute of the old import path.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F
from torch.func import vmap

import sce_lib
import sce_lib.derivatives
from sce_lib import (
    ce_gradient,
    ce_hessian,
    cross_entropy,
    linear_ce_gradient,
    linear_ce_hvp,
    linear_ce_loss,
    log_softmax,
    logsumexp,
    reference,
    softmax,
)

F64 = torch.float64
NEG_INF = float("-inf")


def _extreme_rows() -> torch.Tensor:
    """Rows whose maximum is not a short binary fraction (so z - max is inexact: TwoSum's lo != 0),
    with differences up to -700 (where a rounded difference costs hundreds of ulps in exp)."""
    gen = torch.Generator().manual_seed(11)
    z = 300.0 * torch.randn(12, 4, generator=gen, dtype=F64) + 1.0 / 3.0
    z[:, 0] = z.max(dim=1).values + 0.1  # class 0 is the maximum
    z[:4, 1] = z[:4, 0] - 700.1
    z[4:8, 1] = z[4:8, 0] - 37.3
    return z


def _exact_p_minus_y(z: torch.Tensor, c: list[int]) -> list[list]:
    """p - y from the 50-digit oracle; p_c - 1 = -sum_{j != c} p_j keeps its digits near p_c = 1."""
    out = []
    with mpmath.workdps(reference.DIGITS):
        for row, cn in zip(z.tolist(), c):
            p = reference.softmax(row)
            out.append([-mpmath.fsum(p[i] for i in range(len(row)) if i != cn) if j == cn else p[j] for j in range(len(row))])
    return out


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
def test_ce_gradient_componentwise_accurate(requires_grad: bool) -> None:
    # ce_gradient's documented bound is 4 ulps of each entry (tests/test_numerics.py measures 2.6);
    # the accurate form holds whether or not the logits require a gradient (then it runs the
    # differentiable branch of the shifted form).  A rounded z - max would cost ~|z - max|/2 ulps.
    z = _extreme_rows()
    c = [0] * 6 + [2] * 6
    g = ce_gradient(z.clone().requires_grad_(requires_grad), c)
    assert g.requires_grad == requires_grad
    with mpmath.workdps(reference.DIGITS):
        err = reference.ulp_distance(g.detach(), _exact_p_minus_y(z, c), F64)
    assert float(err.max()) <= 4.0
    # softmax itself (no gradient path), same oracle, bound 4 ulps (tests/test_numerics.py)
    with mpmath.workdps(reference.DIGITS):
        err_p = reference.ulp_distance(softmax(z), reference.softmax(z.tolist()), F64)
    assert float(err_p.max()) <= 4.0


def test_ce_gradient_is_differentiable_to_the_hessian() -> None:
    # d(p - y)/dz = diag(p) - p p^T = ce_hessian (float64: two evaluations of the same
    # formula agree to ~1e-15; we allow rtol 1e-12 / atol 1e-14)
    gen = torch.Generator().manual_seed(3)
    z = (2.0 * torch.randn(3, 4, generator=gen, dtype=F64) + 1.0 / 3.0).requires_grad_()
    g = ce_gradient(z, [0, 3, 1])
    w = torch.randn(3, 4, generator=gen, dtype=F64)
    (jw,) = torch.autograd.grad((g * w).sum(), z)
    want = (ce_hessian(z.detach()) @ w[:, :, None]).squeeze(-1)
    torch.testing.assert_close(jw, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_ce_gradient_half_precision(dtype: torch.dtype) -> None:
    # Computed in float32 and rounded once: dtype of the logits, each entry within one ulp of
    # the dtype of the float64 value on the same (half) inputs (rounding gives 1/2 ulp, float32
    # adds about 2^-13 of an ulp; one ulp leaves margin).
    gen = torch.Generator().manual_seed(7)
    z = (4.0 * torch.randn(8, 5, generator=gen)).to(dtype)
    y = torch.randint(0, 5, (8,), generator=gen)
    g = ce_gradient(z, y)
    assert g.dtype == dtype
    ref = torch.softmax(z.double(), 1) - F.one_hot(y, 5).double()
    mag = ref.abs().clamp_min(torch.finfo(dtype).smallest_normal)
    one_ulp = torch.exp2(torch.floor(torch.log2(mag))) * torch.finfo(dtype).eps
    assert bool(((g.double() - ref).abs() <= one_ulp).all())
    soft = F.one_hot(y, 5).to(dtype)  # the same targets as probability rows: same result, same dtype
    g_soft = ce_gradient(z, soft)
    assert g_soft.dtype == dtype
    assert bool(((g_soft.double() - ref).abs() <= one_ulp).all())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_smoothed_soft_target_gradient(dtype: torch.dtype) -> None:
    # Half-precision logits and probability targets with label smoothing: y_eps = (1 - eps) y + eps/K
    # is formed in float32 like everything else, so each gradient entry is within one ulp (of the
    # dtype) of the float64 gradient on the same inputs (measured: 0.5 ulp, the final rounding).
    # Forming y_eps in half precision first would cost tens of ulps where p - y_eps cancels.
    gen = torch.Generator().manual_seed(0)
    z = (2.0 * torch.randn(32, 5, generator=gen)).to(dtype).requires_grad_()
    y = torch.softmax(torch.randn(32, 5, generator=gen), 1).to(dtype)
    (g,) = torch.autograd.grad(cross_entropy(z, y, reduction="sum", label_smoothing=0.1), z)
    zr = z.detach().double().requires_grad_()
    (want,) = torch.autograd.grad(F.cross_entropy(zr, y.double(), reduction="sum", label_smoothing=0.1), zr)
    mag = want.abs().clamp_min(torch.finfo(dtype).smallest_normal)
    one_ulp = torch.exp2(torch.floor(torch.log2(mag))) * torch.finfo(dtype).eps
    assert g.dtype == dtype
    assert bool(((g.double() - want).abs() <= one_ulp).all())


def test_default_l2_is_zero_in_gradient_and_hvp() -> None:
    # The defaults of linear_ce_gradient / linear_ce_hvp match linear_ce_loss's (l2 = 0): the gradient
    # and HVP of the default loss by autograd (float64, same formula in another order: 1e-12).
    gen = torch.Generator().manual_seed(5)
    W = torch.randn(3, 2, generator=gen, dtype=F64, requires_grad=True)
    b = torch.randn(3, generator=gen, dtype=F64, requires_grad=True)
    X = torch.randn(6, 2, generator=gen, dtype=F64)
    y = torch.randint(0, 3, (6,), generator=gen)
    dW, db = torch.autograd.grad(linear_ce_loss(W, b, X, y), (W, b), create_graph=True)
    gW, gb = linear_ce_gradient(W.detach(), b.detach(), X, y)
    torch.testing.assert_close(gW, dW.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gb, db.detach(), rtol=1e-12, atol=1e-14)
    V = torch.randn(3, 3, generator=gen, dtype=F64)
    hW, hb = torch.autograd.grad((dW * V[:, :2]).sum() + (db * V[:, 2]).sum(), (W, b))
    hv = linear_ce_hvp(W.detach(), b.detach(), X, y, V)
    torch.testing.assert_close(hv, torch.cat([hW, hb[:, None]], dim=1), rtol=1e-12, atol=1e-14)


def test_ce_hessian_over_the_last_dim_of_any_shape() -> None:
    # ce_hessian accepts (..., K): a single row (K,) and a batch of batches (B, N, K), each the
    # diag(p) - p p^T of its own last-dim row (float64, same formula: 1e-12).
    z = torch.tensor([[[0.0, 1.0, -2.0], [3.0, 0.5, 0.5]], [[1.0, 1.0, 1.0], [-1.0, 2.0, 0.0]]], dtype=F64)
    h = ce_hessian(z)
    assert h.shape == (2, 2, 3, 3)
    for i in range(2):
        for n in range(2):
            p = torch.softmax(z[i, n], 0)
            torch.testing.assert_close(h[i, n], torch.diag(p) - torch.outer(p, p), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ce_hessian(z[0, 0]), h[0, 0], rtol=1e-12, atol=1e-14)


def test_ce_hessian_error_names_its_argument() -> None:
    with pytest.raises(ValueError, match="logits"):
        ce_hessian([[0.0, float("nan")]])


@pytest.mark.parametrize("f, ref", [(log_softmax, torch.log_softmax), (logsumexp, torch.logsumexp)],
                         ids=["log_softmax", "logsumexp"])
def test_vmap_with_the_class_dimension_first(f, ref) -> None:
    # per-sample inputs (K, M) with the classes along dim 0: vmap must keep that dimension
    # (float64, torch's kernels on the same values agree to ~1e-15; we allow 1e-12)
    gen = torch.Generator().manual_seed(2)
    zb = torch.randn(4, 3, 5, generator=gen, dtype=F64)
    torch.testing.assert_close(vmap(lambda z: f(z, dim=0))(zb), ref(zb, 1), rtol=1e-12, atol=1e-14)


def test_target_gradient_is_infinite_where_mass_meets_probability_zero() -> None:
    # dL/dy_j = -log p_j = +inf at a -inf logit carrying target mass (the loss is +inf there);
    # only a zero-mass entry is capped at the largest float (tests/test_gradients.py)
    z = torch.tensor([[0.0, NEG_INF, 1.0]], dtype=F64)
    y = torch.tensor([[0.25, 0.5, 0.25]], dtype=F64, requires_grad=True)
    loss = cross_entropy(z, y, reduction="sum")
    assert loss.item() == math.inf
    (g,) = torch.autograd.grad(loss, y)
    assert g[0, 1].item() == math.inf
    logp = torch.log_softmax(z, 1)
    torch.testing.assert_close(g[0, [0, 2]], -logp[0, [0, 2]], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_mean_is_rounded_once(dtype: torch.dtype) -> None:
    # "Half-precision inputs are computed in float32 and rounded once at the end": the mean over a
    # batch is within half an ulp (of the dtype) of the float64 mean on the same inputs, plus
    # float32's own error (a few float32 ulps, < 2^-10 of a half ulp).  Rounding every row first
    # and summing in half precision would be off by more.
    gen = torch.Generator().manual_seed(1)
    for trial in range(20):
        z = (3.0 * torch.randn(64, 7, generator=gen)).to(dtype)
        y = torch.randint(0, 7, (64,), generator=gen)
        got = cross_entropy(z, y).double()
        ref = F.cross_entropy(z.double(), y)
        ulp = 2.0 ** math.floor(math.log2(abs(ref.item()))) * torch.finfo(dtype).eps
        assert abs(got.item() - ref.item()) <= ulp * (0.5 + 2.0**-10), (trial, got.item(), ref.item())


def test_moved_names_and_missing_attributes() -> None:
    # the old import path still resolves the linear functions; anything else is an
    # AttributeError that names the attribute
    assert sce_lib.derivatives.linear_ce_loss is sce_lib.linear.linear_ce_loss
    with pytest.raises(AttributeError, match="no_such_name"):
        sce_lib.derivatives.no_such_name  # noqa: B018
