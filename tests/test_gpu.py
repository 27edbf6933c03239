"""Parity CPU vs CUDA: every public function gives the same numbers on both devices.

Marked ``gpu``; skipped (tests/conftest.py) when torch.cuda.is_available() is False.
Tolerances: both devices run the same algorithm, but the GPU's exp/log and reduction
orders differ, so float64 results agree to a few ulps (rtol 1e-13) and float32 to
rtol 1e-5.  Results must stay on the input's device.
"""

from __future__ import annotations

import pytest
import torch

import sce_lib
from sce_lib import (
    ce_gradient,
    ce_hessian,
    cross_entropy,
    default_device,
    linear_ce_gradient,
    linear_ce_hessian,
    linear_ce_hvp,
    linear_ce_loss,
    log_softmax,
    logsumexp,
    pack_theta,
    reference,
    softmax,
    softmax_jacobian,
    unpack_theta,
)

pytestmark = pytest.mark.gpu
TOL = {torch.float64: dict(rtol=1e-13, atol=1e-15), torch.float32: dict(rtol=1e-5, atol=1e-6)}
CUDA = torch.device("cuda")


def _same(cpu_out, gpu_out, dtype: torch.dtype) -> None:
    if isinstance(cpu_out, tuple):
        for a, b in zip(cpu_out, gpu_out):
            _same(a, b, dtype)
        return
    assert gpu_out.device.type == "cuda"
    torch.testing.assert_close(gpu_out.cpu(), cpu_out, **TOL[dtype])


def test_default_device_is_cuda() -> None:
    assert default_device().type == "cuda"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logit_functions_parity(dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(0)
    z = (10 * torch.randn(64, 7, generator=gen, dtype=torch.float64)).to(dtype)
    z[0, 3] = float("-inf")
    z[1] = torch.tensor([1e4, -1e4, 0.0, 5.0, 1e4, -3.0, 2.0], dtype=dtype)
    y = torch.randint(0, 7, (64,), generator=gen)
    y[0] = 2
    soft = torch.softmax(torch.randn(64, 7, generator=gen, dtype=torch.float64), 1).to(dtype)
    for f in (softmax, log_softmax, logsumexp, softmax_jacobian, ce_hessian):
        _same(f(z), f(z.to(CUDA)), dtype)
    for target in (y, soft):
        _same(ce_gradient(z, target), ce_gradient(z.to(CUDA), target.to(CUDA)), dtype)
        for reduction in ("mean", "sum", "none"):
            for eps in (0.0, 0.1):
                a = cross_entropy(z, target, reduction=reduction, label_smoothing=eps)
                b = cross_entropy(z.to(CUDA), target.to(CUDA), reduction=reduction, label_smoothing=eps)
                _same(a, b, dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_backward_parity(dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(1)
    z = (5 * torch.randn(128, 10, generator=gen, dtype=torch.float64)).to(dtype)
    z[:8, 0] += 60  # rows with a tiny loss take the refined path
    y = torch.randint(0, 10, (128,), generator=gen)
    y[:8] = 0
    grads = []
    for dev in ("cpu", "cuda"):
        zz = z.to(dev).requires_grad_()
        (g,) = torch.autograd.grad(cross_entropy(zz, y.to(dev)), zz)
        grads.append(g)
    _same(grads[0], grads[1], dtype)


def test_linear_model_parity() -> None:
    gen = torch.Generator().manual_seed(2)
    W = torch.randn(4, 5, generator=gen, dtype=torch.float64)
    b = torch.randn(4, generator=gen, dtype=torch.float64)
    X = torch.randn(50, 5, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (50,), generator=gen)
    V = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    on_gpu = [t.to(CUDA) for t in (W, b, X, y)]
    for l2 in (0.0, 0.1):
        _same(linear_ce_loss(W, b, X, y, l2), linear_ce_loss(*on_gpu, l2), torch.float64)
        _same(linear_ce_gradient(W, b, X, y, l2), linear_ce_gradient(*on_gpu, l2), torch.float64)
        _same(linear_ce_hessian(W, b, X, y, l2), linear_ce_hessian(*on_gpu, l2), torch.float64)
        _same(linear_ce_hvp(W, b, X, y, V, l2), linear_ce_hvp(*on_gpu, V.to(CUDA), l2), torch.float64)


def test_layout_stays_on_the_device() -> None:
    W, b = torch.randn(3, 4, device=CUDA, dtype=torch.float64), torch.randn(3, device=CUDA, dtype=torch.float64)
    theta = pack_theta(W, b)
    assert theta.device.type == "cuda"
    torch.testing.assert_close(theta.cpu(), pack_theta(W.cpu(), b.cpu()), rtol=0, atol=0)
    W2, b2 = unpack_theta(theta, 3, 4)
    assert W2.device.type == "cuda" and torch.equal(W2, W) and torch.equal(b2, b)
    with pytest.raises(ValueError, match=r"b: expected a tensor on cuda:0 \(the device of W\), got one on cpu"):
        pack_theta(W, b.cpu())


def test_reference_reads_gpu_tensors_exactly() -> None:
    z = torch.randn(5, 4, dtype=torch.float64)
    assert reference.log_softmax(z.to(CUDA)) == reference.log_softmax(z)
    gpu_p = softmax(z.to(CUDA))
    assert float(reference.ulp_distance(gpu_p, reference.softmax(z)).max()) <= 4.0


def test_mixed_devices_rejected_with_a_clear_error() -> None:
    z = torch.zeros(2, 3, device=CUDA)
    with pytest.raises(ValueError, match=r"target: expected a tensor on cuda:0 \(the device of logits\), got one on cpu"):
        cross_entropy(z, torch.tensor([0, 1]))


def test_validation_disabled_on_gpu() -> None:
    z = torch.randn(16, 5, device=CUDA)
    y = torch.randint(0, 5, (16,), device=CUDA)
    with sce_lib.validation_disabled():
        fast = cross_entropy(z, y)
    torch.testing.assert_close(fast, cross_entropy(z, y))
