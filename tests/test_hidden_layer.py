"""Tests of sce_lib.hidden_layer: the one-hidden-layer network and its non-convexity counterexample.

The network is checked against an independent forward pass written with matrix products and
torch.nn.functional.cross_entropy (float64; the two differ only in summation order, so 1e-14).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sce_lib import convexity
from sce_lib.hidden_layer import (
    hidden_layer_counterexample,
    one_hidden_layer_ce,
    swap_hidden_units,
    unpack_one_hidden_layer,
)


def _plain_loss(theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor, H: int, K: int) -> float:
    """The counterexample's network written independently: tanh(X W1^T + c1) W2^T + b2, F.cross_entropy."""
    d = X.shape[1]
    W1 = theta[: H * d].reshape(H, d)
    c1 = theta[H * d : H * d + H]
    W2 = theta[H * d + H : H * d + H + K * H].reshape(K, H)
    b2 = theta[H * d + H + K * H :]
    return float(F.cross_entropy(torch.tanh(X @ W1.T + c1) @ W2.T + b2, y))


def test_counterexample_losses_against_an_independent_network() -> None:
    # The constructor itself asserts loss_a == loss_b < loss_mid; here the three numbers are
    # recomputed by a network written independently, so a wrong recorded loss is caught.
    ex = hidden_layer_counterexample()
    mid = (ex.theta_a + ex.theta_b) / 2
    for theta, recorded in ((ex.theta_a, ex.loss_a), (ex.theta_b, ex.loss_b), (mid, ex.loss_mid)):
        assert recorded == pytest.approx(_plain_loss(theta, ex.X, ex.y, 2, 2), rel=1e-14)
    # the data and parameters of the docstring: x = -3..3, class 1 at |x| >= 2
    assert ex.X[:, 0].tolist() == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert ex.y.tolist() == [1, 1, 0, 0, 0, 1, 1]
    # at the midpoint the input weights cancel: the network is constant in x, so its loss is at
    # least the entropy of the labels (a bound that does not use the network at all)
    q = float(ex.y.double().mean())
    entropy = -(q * math.log(q) + (1 - q) * math.log(1 - q))
    assert ex.loss_mid >= entropy
    assert not torch.equal(ex.theta_a, ex.theta_b)


def test_counterexample_segment() -> None:
    ex = hidden_layer_counterexample()
    ts = torch.linspace(0, 1, 21, dtype=torch.float64)
    along = ex.loss_along(ts)
    chord = ex.chord_along(ts)
    assert along.shape == ts.shape == chord.shape
    assert float(along[0]) == ex.loss_a and float(along[-1]) == ex.loss_b
    assert float(along[10]) == pytest.approx(ex.loss_mid, rel=1e-15)
    assert bool((along[1:-1] > chord[1:-1]).all())  # strictly above the chord inside the segment
    torch.testing.assert_close(along, along.flip(0), atol=1e-15, rtol=0)  # symmetric in t <-> 1 - t


def test_counterexample_is_a_permutation_of_hidden_units() -> None:
    ex = hidden_layer_counterexample()
    assert torch.equal(swap_hidden_units(ex.theta_a, 1, 2, 2), ex.theta_b)
    assert torch.equal(swap_hidden_units(ex.theta_b, 1, 2, 2), ex.theta_a)  # an involution
    W1a, c1a, W2a, b2a = unpack_one_hidden_layer(ex.theta_a, 1, 2, 2)
    W1b, c1b, W2b, b2b = unpack_one_hidden_layer(ex.theta_b, 1, 2, 2)
    assert torch.equal(W1a.flip(0), W1b) and torch.equal(c1a.flip(0), c1b)
    assert torch.equal(W2a.flip(1), W2b) and torch.equal(b2a, b2b)


def test_one_hidden_layer_ce_matches_a_plain_torch_network(gen: torch.Generator) -> None:
    X = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0])
    H, K = 4, 4
    theta = torch.randn(H * 3 + H + K * H + K, generator=gen, dtype=torch.float64)
    W1, c1, W2, b2 = unpack_one_hidden_layer(theta, 3, H, K)
    for activation, act in (("tanh", torch.tanh), ("relu", torch.relu)):
        reference = torch.nn.functional.cross_entropy(act(X @ W1.T + c1) @ W2.T + b2, y)
        got = one_hidden_layer_ce(theta, X, y, n_hidden=H, n_classes=K, activation=activation)
        torch.testing.assert_close(got, reference, atol=1e-14, rtol=0)
    # permutation symmetry in general: any swap leaves the loss unchanged (to rounding)
    swapped = swap_hidden_units(theta, 3, H, K, i=1, j=3)
    torch.testing.assert_close(one_hidden_layer_ce(swapped, X, y, n_hidden=H, n_classes=K),
                               one_hidden_layer_ce(theta, X, y, n_hidden=H, n_classes=K), atol=1e-14, rtol=0)


def test_counterexample_float32_agrees_with_float64() -> None:
    ex32, ex64 = hidden_layer_counterexample(dtype=torch.float32), hidden_layer_counterexample()
    assert ex32.theta_a.dtype == ex32.X.dtype == torch.float32
    # float32 rounding of O(1) losses: about 1e-7 relative; 1e-5 is a margin, a wrong formula is off by O(1)
    for a, b in ((ex32.loss_a, ex64.loss_a), (ex32.loss_mid, ex64.loss_mid)):
        assert a == pytest.approx(b, rel=1e-5)


_EX = hidden_layer_counterexample()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: _EX.loss(torch.zeros(9, dtype=torch.float64)), ValueError,
         r"theta: expected shape \(H\*d \+ H \+ K\*H \+ K,\) = \(10,\)"),
        (lambda: one_hidden_layer_ce(_EX.theta_a, _EX.X, _EX.y, n_hidden=2, n_classes=2, activation="sigmoid"),
         ValueError, r"activation: expected one of \('tanh', 'relu'\), got 'sigmoid'"),
        (lambda: one_hidden_layer_ce(_EX.theta_a, _EX.X, _EX.y, n_hidden=2, n_classes=2, activation=None),
         TypeError, r"activation: expected one of \('tanh', 'relu'\), got NoneType"),
        (lambda: one_hidden_layer_ce(_EX.theta_a, _EX.X.float(), _EX.y, n_hidden=2, n_classes=2),
         TypeError, r"X: expected dtype torch.float64 \(that of theta\), got torch.float32"),
        (lambda: one_hidden_layer_ce(_EX.theta_a, _EX.X, _EX.y, n_hidden=2, n_classes=1),
         ValueError, r"n_classes: expected an int >= 2, got 1"),
        (lambda: one_hidden_layer_ce(_EX.theta_a, _EX.X, _EX.y, n_hidden=2.0, n_classes=2),
         TypeError, r"n_hidden: expected an int >= 1, got float \(2.0\)"),
        (lambda: one_hidden_layer_ce(_EX.theta_a.clone().fill_(float("nan")), _EX.X, _EX.y, n_hidden=2, n_classes=2),
         ValueError, r"theta: expected finite values, got NaN at index \(0,\)"),
        (lambda: swap_hidden_units(_EX.theta_a, 1, 2, 2, i=2), ValueError, r"i: expected an int >= 0 and <= 1, got 2"),
        (lambda: swap_hidden_units(_EX.theta_a, 1, 2, 2, j=True), TypeError, r"j: expected an int >= 0 and <= 1, got bool"),
        (lambda: _EX.loss_along(torch.zeros(2, 2)), ValueError, r"ts: expected a 1-D tensor"),
        (lambda: _EX.loss_along([True, False]), TypeError, r"ts: expected a real floating-point tensor"),
        (lambda: hidden_layer_counterexample(dtype=torch.int64), TypeError,
         r"dtype: expected a floating torch.dtype \(e.g. torch.float64\), got torch.int64"),
        (lambda: unpack_one_hidden_layer(torch.zeros(10), 1, 2, 1), ValueError, r"n_classes: expected an int >= 2, got 1"),
    ],
)
def test_hidden_layer_bad_input(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_numpy_integers_are_ints() -> None:
    theta = swap_hidden_units(_EX.theta_a, np.int64(1), np.int64(2), np.int32(2), i=np.int64(0), j=np.int64(1))
    assert torch.equal(theta, _EX.theta_b)


def test_old_import_path() -> None:
    # the network moved out of sce_lib.convexity; the old path names the same objects
    assert convexity.hidden_layer_counterexample is hidden_layer_counterexample
    assert convexity.one_hidden_layer_ce is one_hidden_layer_ce


# torch.func's decompositions call torch.jit.script once, which warns in torch 2.13.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_works_under_torch_func() -> None:
    # the finiteness scans are skipped under a transform (as in the softmax core), so torch.func
    # differentiates the network loss; compared with the autograd Hessian of the same function
    ex = hidden_layer_counterexample()
    mid = (ex.theta_a + ex.theta_b) / 2

    def loss(t: torch.Tensor) -> torch.Tensor:
        return one_hidden_layer_ce(t, ex.X, ex.y, n_hidden=2, n_classes=2)

    H_func = torch.func.hessian(loss)(mid)
    torch.testing.assert_close(H_func, torch.autograd.functional.hessian(loss, mid), rtol=1e-12, atol=1e-12)
    # the chord test's verdict, seen in the curvature: the Hessian at the midpoint is indefinite
    # (smallest eigenvalue -5.2e-4: the saturated units tanh(-6) keep it small, yet 1e12 times rounding)
    assert float(torch.linalg.eigvalsh(H_func)[0]) < -1e-4
