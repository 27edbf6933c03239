"""sce_lib.functional against torch.nn.functional, and the meaning of -inf logits.

Tolerances: float64 comparisons use rtol 1e-12 (both sides are a few ulps from the
exact value, see test_numerics.py, so they agree to ~1e-15; 1e-12 leaves room for
the summation order of reductions); float32 uses rtol 1e-5 for the same reason.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import sce_lib
from sce_lib import cross_entropy, log_softmax, logsumexp, softmax
from sce_lib import _shifted

TOL = {torch.float64: dict(rtol=1e-12, atol=1e-14), torch.float32: dict(rtol=1e-5, atol=1e-6)}
NEG_INF = float("-inf")


def _logits(gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype, scale: float = 3.0) -> torch.Tensor:
    return (scale * torch.randn(shape, generator=gen, dtype=torch.float64)).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(gen: torch.Generator, dtype: torch.dtype, dim: int) -> None:
    z = _logits(gen, (6, 5, 4), dtype)
    torch.testing.assert_close(softmax(z, dim), torch.softmax(z, dim), **TOL[dtype])
    torch.testing.assert_close(log_softmax(z, dim), torch.log_softmax(z, dim), **TOL[dtype])
    torch.testing.assert_close(logsumexp(z, dim), torch.logsumexp(z, dim), **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("soft", [False, True])
def test_cross_entropy_matches_torch_value_and_gradient(
    gen: torch.Generator, dtype: torch.dtype, reduction: str, label_smoothing: float, soft: bool
) -> None:
    n, k = 9, 6
    z = _logits(gen, (n, k), dtype)
    if soft:
        target = torch.softmax(_logits(gen, (n, k), dtype), dim=1)
    else:
        target = torch.randint(0, k, (n,), generator=gen)
    za = z.clone().requires_grad_()
    zb = z.clone().requires_grad_()
    ours = cross_entropy(za, target, reduction=reduction, label_smoothing=label_smoothing)
    ref = F.cross_entropy(zb, target, reduction=reduction, label_smoothing=label_smoothing)
    torch.testing.assert_close(ours, ref, **TOL[dtype])
    w = torch.rand(ours.shape, generator=gen, dtype=torch.float64).to(dtype)  # a generic upstream gradient
    (ga,) = torch.autograd.grad((ours * w).sum(), za)
    (gb,) = torch.autograd.grad((ref * w).sum(), zb)
    torch.testing.assert_close(ga, gb, **TOL[dtype])


def test_soft_target_gradient_matches_torch(gen: torch.Generator) -> None:
    z = _logits(gen, (5, 4), torch.float64)
    y = torch.softmax(_logits(gen, (5, 4), torch.float64), dim=1)
    ya, yb = y.clone().requires_grad_(), y.clone().requires_grad_()
    (ga,) = torch.autograd.grad(cross_entropy(z, ya, label_smoothing=0.2), ya)
    (gb,) = torch.autograd.grad(F.cross_entropy(z, yb, label_smoothing=0.2), yb)
    torch.testing.assert_close(ga, gb)


def test_class_index_and_one_hot_targets_agree(gen: torch.Generator) -> None:
    z = _logits(gen, (8, 5), torch.float64)
    y = torch.randint(0, 5, (8,), generator=gen)
    onehot = F.one_hot(y, 5).to(torch.float64)
    for eps in (0.0, 0.3):
        torch.testing.assert_close(cross_entropy(z, y, label_smoothing=eps), cross_entropy(z, onehot, label_smoothing=eps))


def test_tiny_loss_keeps_relative_accuracy() -> None:
    # The correct class leads by 50: the loss is log(1 + e^-50) = e^-50 (1 - e^-50/2 + ...).
    # torch computes log of a rounded 1 + e^-50 = 1 and returns exactly 0.
    z = torch.tensor([[0.0, -50.0]], dtype=torch.float64)
    y = torch.tensor([0])
    exact = math.log1p(math.exp(-50.0))
    assert F.cross_entropy(z, y).item() == 0.0
    assert cross_entropy(z, y).item() == pytest.approx(exact, rel=1e-15)
    assert log_softmax(z)[0, 0].item() == pytest.approx(-exact, rel=1e-15)
    # its gradient p_0 - 1 = -e^-50/(1 + e^-50) is also kept, by autograd and by ce_gradient
    zz = z.clone().requires_grad_()
    (g,) = torch.autograd.grad(cross_entropy(zz, y), zz)
    want = -math.exp(-50.0) / (1 + math.exp(-50.0))
    assert g[0, 0].item() == pytest.approx(want, rel=1e-15)
    assert sce_lib.ce_gradient(z, y)[0, 0].item() == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_row_blocks_give_the_same_losses_and_gradients(gen: torch.Generator, dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch) -> None:
    # On the CPU cross_entropy goes through the rows in blocks of _shifted._BLOCK_ELEMENTS
    # entries; a block may hold only confident rows (loss < log 2: every row recomputed by
    # the exact form), none, or a mix.  Blocks of 3 rows must give what one block gives.
    monkeypatch.setattr(_shifted, "_WIDE_BLOCK_FACTOR", 1)  # float32 too in blocks of _BLOCK_ELEMENTS
    n, k = 23, 4
    z = _logits(gen, (n, k), dtype)
    y = torch.randint(0, k, (n,), generator=gen)
    confident = torch.tensor([0, 1, 2, 5, 9, 10, 11, 12, 13, 14, 20])  # rows 9-14: two whole blocks
    z[confident, y[confident]] += 60.0
    w = torch.rand(n, generator=gen, dtype=torch.float64).to(dtype)  # a generic upstream gradient

    def loss_and_grad(block_elements: int) -> tuple[torch.Tensor, torch.Tensor]:
        monkeypatch.setattr(_shifted, "_BLOCK_ELEMENTS", block_elements)
        zz = z.clone().requires_grad_()
        rows = cross_entropy(zz, y, reduction="none")
        (g,) = torch.autograd.grad((rows * w).sum(), zz)
        return rows.detach(), g

    assert len(_shifted._row_blocks(z)) == 1
    one_block = loss_and_grad(_shifted._BLOCK_ELEMENTS)
    assert len(_shifted._row_blocks(torch.empty(n, k))) == 1
    blocked = loss_and_grad(3 * k)
    assert len(_shifted._row_blocks(z)) == 8
    for a, b in zip(blocked, one_block):
        torch.testing.assert_close(a, b, rtol=2 * torch.finfo(dtype).eps, atol=0)
    # and both are right: loss = log1p(sum_{j != c} exp(z_j - z_c)), and the confident rows
    # keep their tiny losses to full relative accuracy (torch rounds them to 0)
    u = torch.exp(z.double() - z.double().gather(1, y[:, None])).scatter(1, y[:, None], 0.0).sum(1)
    exact = torch.log1p(u)
    torch.testing.assert_close(blocked[0].double(), exact, **TOL[dtype])
    torch.testing.assert_close(blocked[0][confident].double(), exact[confident], rtol=TOL[dtype]["rtol"], atol=0)
    assert bool((F.cross_entropy(z, y, reduction="none")[confident] == 0).all())
    torch.testing.assert_close(blocked[1], (softmax(z) - F.one_hot(y, k).to(dtype)) * w[:, None], **TOL[dtype])


def test_extreme_logits_are_finite_and_correct() -> None:
    z32 = torch.tensor([[1e4, -1e4, 0.0], [1e4, 1e4 - 1.0, -1e4]], dtype=torch.float32)
    loss = cross_entropy(z32, [1, 1], reduction="none")
    assert torch.isfinite(loss).all()
    # row 0: target logit is 2e4 below the max: loss = 2e4 exactly in float32
    assert loss[0].item() == 2e4
    assert loss[1].item() == pytest.approx(1 + math.log1p(math.exp(-1.0)), rel=1e-6)
    z64 = torch.tensor([[1e300, -1e300], [-1e300, -1e300]], dtype=torch.float64)
    loss64 = cross_entropy(z64, [1, 0], reduction="none")
    assert loss64.tolist() == [2e300, math.log(2.0)]
    zz = z64.clone().requires_grad_()
    (g,) = torch.autograd.grad(cross_entropy(zz, [1, 0], reduction="sum"), zz)
    assert g.tolist() == [[1.0, -1.0], [-0.5, 0.5]]
    assert logsumexp(z64).tolist() == [1e300, -1e300 + math.log(2.0)]


class TestNegativeInfinity:
    """-inf is a class with probability zero (documented in sce_lib.functional)."""

    z = torch.tensor([[0.0, NEG_INF, 1.0], [NEG_INF, 2.0, 2.0]], dtype=torch.float64)

    def test_softmax_is_exactly_zero_there(self) -> None:
        p = softmax(self.z)
        assert p[0, 1].item() == 0.0 and p[1, 0].item() == 0.0
        torch.testing.assert_close(p.sum(dim=1), torch.ones(2, dtype=torch.float64))
        # the other classes share the mass as if the -inf class were absent
        torch.testing.assert_close(p[0, [0, 2]], torch.softmax(self.z[0, [0, 2]], dim=0))
        assert p[1, 1:].tolist() == [0.5, 0.5]
        assert log_softmax(self.z)[0, 1].item() == NEG_INF
        assert softmax(torch.tensor([1000.0, 1000.0, NEG_INF])).tolist() == [0.5, 0.5, 0.0]

    def test_loss_finite_when_target_has_a_finite_logit(self) -> None:
        loss = cross_entropy(self.z, [2, 1], reduction="none")
        assert torch.isfinite(loss).all()
        torch.testing.assert_close(loss, torch.tensor([math.log1p(math.exp(-1.0)), math.log(2.0)], dtype=torch.float64))

    def test_loss_infinite_when_target_logit_is_minus_inf(self) -> None:
        loss = cross_entropy(self.z, [1, 1], reduction="none")
        assert loss[0].item() == math.inf and math.isfinite(loss[1].item())
        assert cross_entropy(self.z, [1, 1]).item() == math.inf

    def test_soft_target_zero_mass_on_minus_inf_class_is_finite(self) -> None:
        y = torch.tensor([[0.5, 0.0, 0.5], [0.0, 0.25, 0.75]], dtype=torch.float64)
        loss = cross_entropy(self.z, y, reduction="none")
        assert torch.isfinite(loss).all()  # 0 * log 0 = 0, torch would give nan here
        want0 = -(y[0, [0, 2]] * torch.log_softmax(self.z[0, [0, 2]], dim=0)).sum()
        torch.testing.assert_close(loss[0], want0)
        torch.testing.assert_close(loss[1], torch.tensor(math.log(2.0), dtype=torch.float64))
        y_bad = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]], dtype=torch.float64)
        assert cross_entropy(self.z, y_bad, reduction="none")[0].item() == math.inf

    def test_label_smoothing_puts_mass_on_every_class(self) -> None:
        assert cross_entropy(self.z, [2, 1], label_smoothing=0.1).item() == math.inf
        assert math.isfinite(cross_entropy(self.z, [2, 1], label_smoothing=0.0).item())

    def test_gradient_is_p_minus_y_and_finite(self) -> None:
        zz = self.z.clone().requires_grad_()
        (g,) = torch.autograd.grad(cross_entropy(zz, [2, 1], reduction="sum"), zz)
        want = softmax(self.z) - F.one_hot(torch.tensor([2, 1]), 3)
        torch.testing.assert_close(g, want)
        torch.testing.assert_close(sce_lib.ce_gradient(self.z, [2, 1]), want)
        assert torch.isfinite(sce_lib.ce_gradient(self.z, [1, 1])).all()  # even where the loss is +inf


def test_input_conversion_and_dtypes() -> None:
    # lists become float64; numpy keeps its dtype; integers become float64
    assert softmax([1.0, 2.0]).dtype == torch.float64
    assert softmax([1, 2]).dtype == torch.float64
    assert softmax(np.array([1.0, 2.0], dtype=np.float32)).dtype == torch.float32
    assert softmax(np.array([[1.0, 2.0]])).dtype == torch.float64
    assert cross_entropy(np.zeros((2, 3), dtype=np.float32), np.array([0, 2])).dtype == torch.float32
    for dtype in (torch.float16, torch.bfloat16):
        z = torch.tensor([[1.0, 2.0, 3.0]], dtype=dtype)
        assert softmax(z).dtype == dtype
        torch.testing.assert_close(softmax(z), torch.softmax(z.float(), 1).to(dtype))
        assert cross_entropy(z, [0]).dtype == dtype


def test_reductions_are_sum_and_mean_of_rows(gen: torch.Generator) -> None:
    z = _logits(gen, (7, 3), torch.float64)
    y = torch.randint(0, 3, (7,), generator=gen)
    rows = cross_entropy(z, y, reduction="none")
    assert rows.shape == (7,)
    torch.testing.assert_close(cross_entropy(z, y, reduction="sum"), rows.sum())
    torch.testing.assert_close(cross_entropy(z, y), rows.mean())


def test_validation_disabled_keeps_conversion_and_values(gen: torch.Generator) -> None:
    # with the scans off, lists and integer data are still converted (to float64) and the
    # values are still right: compared with torch on the converted input
    z = [[3, 1, 0], [0, 2, 5]]
    with sce_lib.validation_disabled():
        loss = cross_entropy(z, [0, 2], reduction="none")
        p = softmax(z)
    zt = torch.tensor(z, dtype=torch.float64)
    assert loss.dtype == p.dtype == torch.float64
    torch.testing.assert_close(loss, F.cross_entropy(zt, torch.tensor([0, 2]), reduction="none"), **TOL[torch.float64])
    torch.testing.assert_close(p, torch.softmax(zt, 1), **TOL[torch.float64])


def test_float32_blocks_route_by_candidate_count(gen: torch.Generator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Float32 logits with class indices: per block, the rows whose target is a maximum (candidates)
    # go through the float64 form, the others through torch's fused log_softmax.  Blocks of 16 rows:
    # block 0 has no candidate (fused kernel only), block 1 one (8 * 1 <= 16: gathered), block 2 all
    # (the whole block in float64).  Every loss must be the float64 exact form rounded to float32:
    # within 1 ulp for the candidates (the float64 form is correctly rounded up to ~2^-40 ulps, and
    # the reference itself is rounded once more) and 3 ulps elsewhere (torch's kernel, test_numerics).
    n, k = 48, 50
    z = _logits(gen, (n, k), torch.float32)
    y = z.argmin(dim=1)  # the target is the smallest logit: no candidate ...
    y[16:] = torch.randint(0, k, (32,), generator=gen)
    rows = torch.tensor([20] + list(range(32, 48)))  # ... one in block 1, every row of block 2
    z[rows, y[rows]] = z[rows].amax(dim=1) + torch.tensor([0.0] + [30.0] * 15 + [0.5], dtype=torch.float32)
    y[16:32][torch.arange(16) != 4] = z[16:32].argmin(dim=1)[torch.arange(16) != 4]  # row 20 alone in block 1
    calls: list[int] = []
    wide = _shifted._ce_rows_wide

    def spy(zb: torch.Tensor, c: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        calls.append(zb.shape[0])
        return wide(zb, c, m)

    monkeypatch.setattr(_shifted, "_ce_rows_wide", spy)
    monkeypatch.setattr(_shifted, "_BLOCK_ELEMENTS", 16 * k)
    monkeypatch.setattr(_shifted, "_WIDE_BLOCK_FACTOR", 1)
    loss = cross_entropy(z, y, reduction="none")
    assert calls == [1, 16]  # block 0: none; block 1: the one row gathered; block 2: all 16 rows
    exact = _shifted._ce_rows_exact(z.double(), y, 0.0).to(torch.float32)  # TwoSum in float64, rounded
    ulp = torch.nextafter(exact.abs(), torch.tensor(math.inf)) - exact.abs()  # one ulp of the exact value
    err = (loss - exact).abs() / ulp
    assert err[rows].max() <= 1.0, err[rows]
    assert err.max() <= 3.0, err
    assert (loss[32:48] < 1e-10).sum() >= 14  # tiny losses kept (torch's kernel gives 0 there)
