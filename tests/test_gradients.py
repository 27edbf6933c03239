"""Derivatives of sce_lib's softmax family and cross-entropy at the edges (float64 unless stated).

-inf logits under autograd, label smoothing 1 on a -inf class, the gradient in soft targets,
mixed dtypes, half precision against float32, and the precision of the first-order gradient
taken with ``create_graph=True`` (against the 50-digit oracle ``sce_lib.reference``).
Tolerances are stated per test, in ulps where the claim is about ulps.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F

from sce_lib import cross_entropy, log_softmax, logsumexp, reference, softmax

TOL = {torch.float64: dict(rtol=1e-12, atol=1e-14), torch.float32: dict(rtol=1e-5, atol=1e-6)}
NEG_INF = float("-inf")


def _logits(gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype, scale: float = 3.0) -> torch.Tensor:
    return (scale * torch.randn(shape, generator=gen, dtype=torch.float64)).to(dtype)


# --------------------------------------------------------------------------- autograd at the edges


class TestNegativeInfinityUnderAutograd:
    """-inf logits with requires_grad: probability 0, finite gradients, never NaN."""

    z = torch.tensor([[0.0, NEG_INF, 1.0, -2.0], [NEG_INF, 3.0, NEG_INF, 3.0]], dtype=torch.float64)
    w = torch.tensor([[0.5, -1.0, 2.0, 0.25], [1.0, -0.5, 3.0, 0.75]], dtype=torch.float64)  # upstream weights
    finite = ~torch.isinf(z)

    def _grad(self, f) -> tuple[torch.Tensor, torch.Tensor]:
        zz = self.z.clone().requires_grad_()
        out = f(zz)
        (g,) = torch.autograd.grad((out * (self.w if out.dim() == 2 else self.w[:, 0])).sum(), zz)
        return out.detach(), g

    def _p(self) -> torch.Tensor:  # softmax over the finite classes only (torch, independent)
        p = torch.zeros_like(self.z)
        for n in range(2):
            p[n, self.finite[n]] = torch.softmax(self.z[n, self.finite[n]], 0)
        return p

    def test_softmax(self) -> None:
        p, g = self._grad(softmax)
        assert bool((p[~self.finite] == 0).all())
        want_p = self._p()
        torch.testing.assert_close(p, want_p, **TOL[torch.float64])
        # d/dz <w, p> = p * (w - <w, p>): 0 at the -inf classes
        want = want_p * (self.w - (self.w * want_p).sum(1, keepdim=True))
        torch.testing.assert_close(g, want, **TOL[torch.float64])
        assert bool((g[~self.finite] == 0).all())

    def test_log_softmax(self) -> None:
        logp, g = self._grad(log_softmax)
        assert bool((logp[~self.finite] == NEG_INF).all())
        # d/dz <w, log p> = w - p sum(w): at a -inf class p = 0, so exactly w there
        want = self.w - self._p() * self.w.sum(1, keepdim=True)
        torch.testing.assert_close(g, want, **TOL[torch.float64])
        assert torch.isfinite(g).all()

    def test_logsumexp(self) -> None:
        lse, g = self._grad(logsumexp)
        torch.testing.assert_close(lse, torch.tensor([math.log(1 + math.e + math.exp(-2.0)), 3 + math.log(2.0)], dtype=torch.float64), **TOL[torch.float64])
        torch.testing.assert_close(g, self.w[:, :1] * self._p(), **TOL[torch.float64])
        assert bool((g[~self.finite] == 0).all())

    def test_second_derivatives_are_finite(self) -> None:
        zz = self.z.clone().requires_grad_()
        for f in (softmax, log_softmax, logsumexp):
            (g,) = torch.autograd.grad((f(zz) * (self.w if f is not logsumexp else self.w[:, 0])).sum(), zz, create_graph=True)
            (h,) = torch.autograd.grad((g * self.w).sum(), zz)
            assert torch.isfinite(h).all(), f.__name__


def test_label_smoothing_one_with_target_on_a_minus_inf_class() -> None:
    # eps = 1: the target is uniform, so every class has weight 1/K; one has p = 0: loss +inf.
    # (1 - eps) * (-log p_c) would be 0 * inf = NaN: the term of weight 0 is skipped.
    z = torch.tensor([[NEG_INF, 0.0, 1.0], [0.0, 1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    loss = cross_entropy(z, [0, 1], reduction="none", label_smoothing=1.0)
    assert loss[0].item() == math.inf
    assert loss[1].item() == pytest.approx(-torch.log_softmax(z[1].detach(), 0).mean().item(), rel=1e-14)
    (g,) = torch.autograd.grad(loss.sum(), z)
    torch.testing.assert_close(g, softmax(z.detach()) - 1 / 3, **TOL[torch.float64])  # p - 1/K, finite


@pytest.mark.parametrize("eps", [0.0, 0.25])
def test_gradient_in_soft_targets_at_minus_inf_logits(eps: float) -> None:
    # dL/dy_j = -(1 - eps) log p_j: +inf where p_j = 0; returned as (1 - eps) * the largest float
    # there (y_j = 0), so that the loss and the gradient stay free of NaN
    z = torch.tensor([[0.0, NEG_INF, 1.0], [2.0, 0.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([[0.25, 0.0, 0.75], [0.5, 0.5, 0.0]], dtype=torch.float64, requires_grad=True)
    loss = cross_entropy(z, y, reduction="sum", label_smoothing=eps)
    assert math.isfinite(loss.item()) == (eps == 0.0)  # smoothing puts mass on the -inf class
    (g,) = torch.autograd.grad(loss, y)
    assert not torch.isnan(g).any()
    assert g[0, 1].item() == (1 - eps) * torch.finfo(torch.float64).max
    logp = torch.log_softmax(z, 1)
    finite = torch.isfinite(logp)
    torch.testing.assert_close(g[finite], -(1 - eps) * logp[finite], **TOL[torch.float64])


def test_float32_soft_targets_with_float64_logits(gen: torch.Generator) -> None:
    z = _logits(gen, (6, 5), torch.float64)
    y32 = torch.softmax(_logits(gen, (6, 5), torch.float32), dim=1).requires_grad_()
    loss = cross_entropy(z, y32, reduction="none", label_smoothing=0.1)
    assert loss.dtype == torch.float64  # computed in the logits' dtype, on the float32 values as given
    want = F.cross_entropy(z, y32.detach().double(), reduction="none", label_smoothing=0.1)
    torch.testing.assert_close(loss, want, **TOL[torch.float64])
    (g,) = torch.autograd.grad(loss.sum(), y32)
    assert g.dtype == torch.float32
    torch.testing.assert_close(g, (-0.9 * torch.log_softmax(z, 1)).float(), rtol=torch.finfo(torch.float32).eps, atol=0)


def _half_ulp_bound(ref: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """One ulp of ``dtype`` at |ref| (ref in float64): 2^floor(log2 |ref|) * eps."""
    mag = ref.abs().clamp_min(torch.finfo(dtype).smallest_normal)
    return torch.exp2(torch.floor(torch.log2(mag))) * torch.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_within_one_ulp_of_float32(gen: torch.Generator, dtype: torch.dtype) -> None:
    # Half precision is computed in float32 and rounded once, so each result is within half an
    # ulp of the float32 value (plus float32's few ulps, 2^-13 of a half ulp or less): we allow one ulp.
    z = _logits(gen, (8, 6), dtype)
    y = torch.randint(0, 6, (8,), generator=gen)
    z32 = z.float()  # the half values, exactly
    pairs = [
        (softmax(z), torch.softmax(z32, 1)),
        (log_softmax(z), torch.log_softmax(z32, 1)),
        (logsumexp(z), torch.logsumexp(z32, 1)),
        (cross_entropy(z, y, reduction="none"), F.cross_entropy(z32, y, reduction="none")),
        (cross_entropy(z, y, reduction="none", label_smoothing=0.1), F.cross_entropy(z32, y, reduction="none", label_smoothing=0.1)),
    ]
    zz = z.clone().requires_grad_()
    (g,) = torch.autograd.grad(cross_entropy(zz, y, reduction="sum"), zz)
    z32r = z32.clone().requires_grad_()
    (g32,) = torch.autograd.grad(F.cross_entropy(z32r, y, reduction="sum"), z32r)
    pairs.append((g, g32))
    for ours, ref in pairs:
        assert ours.dtype == dtype
        err = (ours.double() - ref.double()).abs()
        bound = _half_ulp_bound(ref.double(), dtype)
        assert bool((err <= bound).all()), float((err / bound).max())
    # and the bound is tight enough to see a second rounding: the float32 values are not all half values
    assert any(bool((ref.to(dtype).double() != ref.double()).any()) for _, ref in pairs)


# --------------------------------------------------------------------------- create_graph precision


def _exact_gradient(z: torch.Tensor, target: torch.Tensor, eps: float) -> tuple[list, list]:
    """p - y_eps from the 50-digit oracle, and the magnitude max(p_j, y_eps,j) that is subtracted.

    For class indices and eps = 0, p_c - 1 = -sum_{j != c} p_j, so no step cancels.
    """
    n, k = z.shape
    with mpmath.workdps(reference.DIGITS):
        return _exact_rows(reference.softmax(z), target, eps, n, k)


def _exact_rows(p: list, target: torch.Tensor, eps: float, n: int, k: int) -> tuple[list, list]:
    eps_mp = mpmath.mpf(eps)
    values, scales = [], []
    for i in range(n):
        if target.dim() == 1:
            y = [(1 - eps_mp) * (j == int(target[i])) + eps_mp / k for j in range(k)]
        else:
            y = [(1 - eps_mp) * mpmath.mpf(float(target[i, j])) + eps_mp / k for j in range(k)]
        c = int(target[i]) if target.dim() == 1 else None
        for j in range(k):
            if j == c and eps == 0.0:
                values.append(-mpmath.fsum(p[i][m] for m in range(k) if m != c))
            else:
                values.append(p[i][j] - y[j])
            scales.append(max(p[i][j], y[j]))
    return values, scales


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("soft", [False, True])
def test_create_graph_gradient_keeps_its_precision(eps: float, soft: bool) -> None:
    # row 0: loss ~ 1e-13 (< 1e-10), where p_c - 1 = -9.4e-14 loses every digit if computed by
    # subtraction; row 1: ordinary; row 2: the target far below the maximum
    z = torch.tensor([[30.0, 0.0, -5.0], [0.3, -0.2, 1.1], [-40.0, 2.0, 0.5]], dtype=torch.float64)
    target = torch.tensor([0, 2, 0])
    if soft:
        target = torch.tensor([[1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [0.5, 0.0, 0.5]], dtype=torch.float64)
    assert cross_entropy(z, target, reduction="none")[0].item() < 1e-10
    exact, magnitude = _exact_gradient(z, target, eps)
    # Class indices: each entry to a few ulps of itself (torch.softmax's rounding of z - m costs up
    # to about |z_j - m| / 2 ulps of p_j: 21 here), p_c - 1 included (expm1 of the loss).
    # Probability rows: p - y is a subtraction of two numbers up to 1 in size, graded in ulps of
    # the larger (the accuracy a subtraction can promise; torch does the same).
    scale = magnitude if soft else None
    grads = {}
    for create_graph in (False, True):
        zz = z.clone().requires_grad_()
        loss = cross_entropy(zz, target, reduction="sum", label_smoothing=eps)
        (g,) = torch.autograd.grad(loss, zz, create_graph=create_graph)
        assert g.requires_grad == create_graph
        grads[create_graph] = g.detach()
        with mpmath.workdps(reference.DIGITS):  # ulp_distance reads the mpf values at the current precision
            err = reference.ulp_distance(g.detach().reshape(-1), exact, torch.float64, scale=scale)
        assert float(err.max()) <= (4 if soft else 24), (create_graph, err)
    assert torch.equal(grads[False], grads[True])  # same precision: the very same numbers
