"""CUDA parity of the modules tests/test_gpu.py does not cover: separability, optim, training,
convexity and the hidden-layer network. Each runs the same call on the CPU and on the GPU.

Marked ``gpu``; skipped without CUDA (tests/conftest.py); `make gpu-check` runs them.
Tolerances: float64 on both devices, the same algorithm, different rounding of exp/log and of
reductions: a few ulps per operation, so 1e-10 relative for results of a few hundred operations and
1e-6 for the outcome of an iterative solver stopped at a relative gradient of 1e-8 (both stop near
the same minimiser; the distance between their iterates is of the order of the stopping tolerance).
The exact separation count compares distances: a pair whose two distances differ by less than the
devices' rounding may be ordered differently, so the probabilities agree to a few pairs in all.
"""

from __future__ import annotations

import pytest
import torch

import sce_lib
from sce_lib.hidden_layer import one_hidden_layer_ce
from sce_lib.training import MLP, evaluate, train

pytestmark = pytest.mark.gpu
CUDA = torch.device("cuda")


def _blobs(n: int, K: int, d: int, seed: int, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % K
    X = torch.randn(n, d, generator=g, dtype=torch.float64) + 2.0 * torch.nn.functional.one_hot(y % d, d).double()
    return X.to(dtype), y


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_separation_probability_parity(dtype: torch.dtype) -> None:
    X, y = _blobs(600, 4, 5, seed=1, dtype=dtype)
    cpu = sce_lib.separation_probability(X, y)
    gpu = sce_lib.separation_probability(X.to(CUDA), y.to(CUDA))
    # a handful of near-tied pairs of pairs may flip; each weighs about 1 / (intra pairs x inter pairs)
    assert abs(cpu - gpu) < 1e-6, (cpu, gpu)
    M = torch.randn(3, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64).to(dtype)
    assert abs(sce_lib.separation_probability(X, y, matrix=M)
               - sce_lib.separation_probability(X.to(CUDA), y.to(CUDA), matrix=M.to(CUDA))) < 1e-6
    s_cpu = sce_lib.sampled_separation_probability(X, y, n_pairs=20_000, seed=3)
    s_gpu = sce_lib.sampled_separation_probability(X.to(CUDA), y.to(CUDA), n_pairs=20_000, seed=3)
    assert abs(s_cpu.estimate - s_gpu.estimate) <= 5 / 20_000  # the same indices: only near-ties may flip


def test_assumption_diagnostics_and_plug_in_parity() -> None:
    X, y = _blobs(300, 3, 3, seed=4)
    logits = X @ torch.randn(3, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64).T
    cpu = sce_lib.assumption_diagnostics(logits, y)
    gpu = sce_lib.assumption_diagnostics(logits.to(CUDA), y.to(CUDA))
    for name in ("loss", "ks", "std_over_mean", "spread_ratio", "spread_ratio_of_means"):
        a, b = float(getattr(cpu, name)), float(getattr(gpu, name))
        assert abs(a - b) <= 1e-10 * max(1.0, abs(a)), (name, a, b)
    losses = sce_lib.cross_entropy(logits, y, reduction="none")
    p_cpu = sce_lib.plug_in_probability(losses, y, 3)
    p_gpu = sce_lib.plug_in_probability(losses.to(CUDA), y.to(CUDA), 3)
    assert abs(p_cpu - p_gpu) < 1e-6


@pytest.mark.parametrize("method", ["newton", "newton-cg", "lbfgs"])
def test_fit_softmax_regression_parity(method: str) -> None:
    X, y = _blobs(400, 3, 4, seed=6)
    cpu = sce_lib.fit_softmax_regression(X, y, l2=1e-2, method=method)
    gpu = sce_lib.fit_softmax_regression(X.to(CUDA), y.to(CUDA), l2=1e-2, method=method)
    assert cpu.converged and gpu.converged
    assert gpu.W.device.type == "cuda" and gpu.b.device.type == "cuda"
    torch.testing.assert_close(gpu.W.cpu(), cpu.W, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(gpu.b.cpu(), cpu.b, rtol=1e-6, atol=1e-7)
    assert abs(gpu.loss - cpu.loss) <= 1e-10 * abs(cpu.loss)


def test_training_parity_float64() -> None:
    X, y = _blobs(256, 3, 6, seed=7)
    runs = {}
    for device in ("cpu", "cuda"):
        net = MLP(6, 3, hidden=(16,), seed=0).double().to(device)
        run = train(net, X.to(device), y.to(device), loss_targets=(0.5,), lr=0.05, batch_size=32, max_epochs=3,
                    check_every=4, seed=0)
        runs[device] = (net, run)
    (net_c, run_c), (net_g, run_g) = runs["cpu"], runs["cuda"]
    assert run_c.steps == run_g.steps
    for (name, a), (_, b) in zip(net_c.state_dict().items(), net_g.state_dict().items()):
        assert b.device.type == "cuda", name
        torch.testing.assert_close(b.cpu(), a, rtol=1e-10, atol=1e-12, msg=name)
    r_c, r_g = evaluate(net_c, X, y), evaluate(net_g, X.to(CUDA), y.to(CUDA))
    torch.testing.assert_close(r_g.losses.cpu(), r_c.losses, rtol=1e-10, atol=1e-14)


def test_convexity_and_hidden_layer_parity() -> None:
    A = torch.randn(6, 6, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    H = A @ A.T
    assert sce_lib.is_psd(H.to(CUDA)) and sce_lib.is_psd(H)
    assert not sce_lib.is_psd((H - 10 * torch.eye(6, dtype=torch.float64)).to(CUDA))
    X, y = _blobs(50, 3, 2, seed=9)
    theta = torch.randn(4 * 2 + 4 + 3 * 4 + 3, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    cpu = one_hidden_layer_ce(theta, X, y, n_hidden=4, n_classes=3)
    gpu = one_hidden_layer_ce(theta.to(CUDA), X.to(CUDA), y.to(CUDA), n_hidden=4, n_classes=3)
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-12, atol=1e-14)
