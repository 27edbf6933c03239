"""Bad input to sce_lib.separability gets a clear error naming the argument, the expected and the received.

One test per case of the issue's list (plus the options), each asserting the type and the message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sce_lib.separability import (
    assumption_diagnostics,
    bound_closed_form,
    bound_threshold,
    margin_cdf,
    margin_from_loss,
    margin_law_ks,
    margin_mean,
    p_model,
    plug_in_probability,
    sampled_separation_probability,
    separation_probability,
    valid_loss_range,
)

X = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
Y = torch.tensor([0, 0, 1, 1, 2, 2])
ESTIMATORS = [separation_probability, sampled_separation_probability]


@pytest.mark.parametrize("f", ESTIMATORS)
def test_mismatched_shapes(f) -> None:
    with pytest.raises(ValueError, match=r"labels: expected shape \(N,\) = \(6,\) to match features \(6, 3\), got \(5,\)"):
        f(X, Y[:5])
    with pytest.raises(ValueError, match=r"features: expected a 2-D tensor of shape \(N, d\), got 1-D"):
        f(X[:, 0], Y)


@pytest.mark.parametrize("f", ESTIMATORS)
def test_fewer_than_two_classes(f) -> None:
    with pytest.raises(ValueError, match="labels: expected at least two classes present .*, got 1"):
        f(X, torch.zeros(6, dtype=torch.int64))


@pytest.mark.parametrize("f", ESTIMATORS)
def test_class_with_one_sample(f) -> None:
    with pytest.raises(ValueError, match="labels: expected at least two samples in every class .*, got class 2 with 1"):
        f(X, torch.tensor([0, 0, 1, 1, 1, 2]))


@pytest.mark.parametrize("f", ESTIMATORS)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_features(f, bad) -> None:
    Xb = X.clone()
    Xb[4, 1] = bad
    with pytest.raises(ValueError, match=rf"features: expected finite values, got {bad} at index \(4, 1\)"):
        f(Xb, Y)


@pytest.mark.parametrize("f", ESTIMATORS)
def test_matrix_width_mismatch(f) -> None:
    with pytest.raises(ValueError, match=r"matrix: expected shape \(m, d\) = \(m, 3\) to match features \(6, 3\), got \(2, 4\)"):
        f(X, Y, matrix=torch.ones(2, 4))


@pytest.mark.parametrize("f", ESTIMATORS)
def test_bad_weighting_and_labels(f) -> None:
    with pytest.raises(ValueError, match=r"weighting: expected one of \('balanced', 'pairs'\), got 'triplets'"):
        f(X, Y, weighting="triplets")
    with pytest.raises(TypeError, match="labels: expected integer class labels, got dtype torch.bool"):
        f(X, Y > 0)
    with pytest.raises(ValueError, match="labels: expected integer class labels, got non-integral values"):
        f(X, Y.double() + 0.5)


def test_sampled_options() -> None:
    with pytest.raises(ValueError, match="n_pairs: expected an int >= 1, got 0"):
        sampled_separation_probability(X, Y, n_pairs=0)
    with pytest.raises(TypeError, match=r"seed: expected an int >= 0, got float \(1.5\)"):
        sampled_separation_probability(X, Y, seed=1.5)


@pytest.mark.parametrize("f", [bound_closed_form, bound_threshold])
@pytest.mark.parametrize("L", [0.0, -0.1, 2.4, math.nan])
def test_bound_L_outside_valid_range(f, L) -> None:
    with pytest.raises(ValueError, match=r"L: expected every value in \(0, 2.30259\) \(the valid range min\(log K, L0\(K\)\) for K = 10\), got"):
        f([0.1, L], 10)


@pytest.mark.parametrize("f", [lambda K: bound_closed_form(0.1, K), lambda K: margin_mean(0.1, K),
                               lambda K: valid_loss_range(K), lambda K: margin_from_loss(0.1, K),
                               lambda K: p_model(0.1, K, n=10)])
def test_K_below_two(f) -> None:
    with pytest.raises(ValueError, match="K: expected an int >= 2, got 1"):
        f(1)
    with pytest.raises(TypeError, match=r"K: expected an int >= 2, got float \(10.0\)"):
        f(10.0)


def test_L_and_losses_must_be_positive() -> None:
    with pytest.raises(ValueError, match="L: expected values > 0, got 0.0"):
        margin_cdf(1.0, [0.5, 0.0], 10)
    with pytest.raises(ValueError, match="loss: expected values > 0, got -1.0"):
        margin_from_loss(-1.0, 10)
    with pytest.raises(ValueError, match="s: expected finite values, got nan"):
        margin_cdf(math.nan, 0.5, 10)
    with pytest.raises(TypeError, match="L: expected real numbers"):
        margin_mean("0.1", 10)


def test_margin_law_ks_inputs() -> None:
    with pytest.raises(ValueError, match="losses: expected values >= 0, got -0.5"):
        margin_law_ks([1.0, -0.5])
    with pytest.raises(ValueError, match="losses: expected at least one value > 0"):
        margin_law_ks([0.0, 0.0])


def test_plug_in_inputs() -> None:
    with pytest.raises(ValueError, match="losses: expected values >= 0, got -1.0"):
        plug_in_probability([0.1, -1.0, 0.2, 0.3], [0, 0, 1, 1], 3)
    with pytest.raises(ValueError, match=r"labels: expected class indices in \[0, 2\], got min 0 and max 3"):
        plug_in_probability([0.1, 0.1, 0.2, 0.3], [0, 0, 3, 3], 3)
    with pytest.raises(ValueError, match=r"labels: expected shape \(N,\) = \(4,\) to match losses, got \(3,\)"):
        plug_in_probability([0.1, 0.1, 0.2, 0.3], [0, 0, 1], 3)


def test_diagnostics_inputs() -> None:
    z = torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"labels: expected class indices in \[0, 2\], got min 0 and max 5"):
        assumption_diagnostics(z, torch.tensor([0, 1, 2, 5]))
    with pytest.raises(ValueError, match=r"weight: expected shape \(K, d\) = \(3, d\) to match logits \(4, 3\), got \(2, 5\)"):
        assumption_diagnostics(z, torch.tensor([0, 1, 2, 0]), weight=torch.ones(2, 5))
    with pytest.raises(ValueError, match=r"logits: expected finite values, got nan at index \(1, 2\)"):
        assumption_diagnostics(torch.tensor([[0.0, 0, 0], [0, 0, np.nan]]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"logits: expected shape \(N, K\) with N >= 1 and K >= 2, got \(4, 1\)"):
        assumption_diagnostics(torch.zeros(4, 1), torch.zeros(4, dtype=torch.int64))
