"""What ``validation_disabled()`` switches off (the data scans only), and the empty batch.

Inside ``validation_disabled()`` every O(1) check of an option, a shape, a dtype or a device
still raises the error it raises outside; only the scans of the values (NaN/inf, ranges, row
sums) are skipped.  An empty batch: ``mean`` is a ValueError, ``sum`` is 0, ``none`` is empty.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

import sce_lib
from sce_lib import cross_entropy, linear_ce_hvp, linear_ce_loss, log_softmax, logsumexp, softmax

NAN = float("nan")
Z = torch.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, -1.0]], dtype=torch.float64)
Y = torch.tensor([0, 2])
W = torch.zeros(3, 2, dtype=torch.float64)
B = torch.zeros(3, dtype=torch.float64)
X = torch.ones(4, 2, dtype=torch.float64)
YL = torch.tensor([0, 1, 2, 0])


# --------------------------------------------------------------------------- validation_disabled


def test_validation_disabled_skips_checks_and_restores_them() -> None:
    z = Z.clone()
    z[0, 0] = NAN
    with sce_lib.validation_disabled():
        assert torch.isnan(softmax(z)[0]).all()  # documented: no check, NaN propagates
        with pytest.raises(RuntimeError):
            with sce_lib.validation_disabled():
                raise RuntimeError("leave the block by an exception")
        assert torch.isnan(softmax(z)[0]).all()  # still disabled in the outer block
    with pytest.raises(ValueError, match="NaN"):
        softmax(z)


def test_validation_disabled_skips_the_target_scans() -> None:
    # a probability row summing to 0.9 is reported with scans on and accepted (as given) with them off
    y = torch.tensor([[0.3, 0.3, 0.3], [0.0, 0.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"rows summing to 1"):
        cross_entropy(Z, y)
    with sce_lib.validation_disabled():
        loss = cross_entropy(Z, y, reduction="none")
    torch.testing.assert_close(loss, -(y * torch.log_softmax(Z, 1)).sum(1), rtol=1e-14, atol=0)


# Inside validation_disabled() only the data scans are off: every O(1) check of an option, a
# shape, a dtype or a device still raises, with the same error as outside.  One case per row.
STILL_CHECKED = {
    "reduction value": (lambda: cross_entropy(Z, Y, reduction="avg"), ValueError, r"reduction: expected one of"),
    "reduction type": (lambda: cross_entropy(Z, Y, reduction=None), TypeError, r"reduction: expected one of"),
    "label_smoothing > 1": (lambda: cross_entropy(Z, Y, label_smoothing=1.5), ValueError, r"label_smoothing: .* got 1.5"),
    "label_smoothing NaN": (lambda: cross_entropy(Z, Y, label_smoothing=NAN), ValueError, r"label_smoothing: .* got NaN"),
    "label_smoothing type": (lambda: cross_entropy(Z, Y, label_smoothing="0.1"), TypeError, r"label_smoothing: expected a real"),
    "dim range": (lambda: softmax(Z, dim=2), ValueError, r"dim: expected an int in \[-2, 1\]"),
    "dim type": (lambda: logsumexp(Z, dim=1.0), TypeError, r"dim: expected an int, got float"),
    "bool logits": (lambda: softmax(torch.ones(2, 3, dtype=torch.bool)), TypeError, r"z: expected a real floating-point"),
    "complex logits": (lambda: log_softmax(torch.ones(2, 3, dtype=torch.complex64)), TypeError, r"z: expected a real floating-point"),
    "one class": (lambda: softmax(torch.zeros(4, 1)), ValueError, r"z: expected K >= 2 classes"),
    "3-D logits": (lambda: cross_entropy(torch.zeros(2, 3, 4), [0, 0]), ValueError, r"logits: expected a 2-D tensor"),
    "target batch size": (lambda: cross_entropy(Z, [0, 1, 2]), ValueError, r"target: expected class indices of shape \(N,\) = \(2,\)"),
    "target rows shape": (lambda: cross_entropy(Z, torch.full((2, 4), 0.25, dtype=torch.float64)), ValueError, r"target: expected probability rows of shape"),
    "integer target rows": (lambda: cross_entropy(Z, torch.tensor([[1, 0, 0], [0, 1, 0]])), TypeError, r"target: expected probability rows with a floating dtype"),
    "target device": (lambda: cross_entropy(Z, torch.zeros(2, dtype=torch.int64, device="meta")), ValueError, r"target: expected a tensor on cpu"),
    "empty batch mean": (lambda: cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64)), ValueError, r"logits: expected at least one sample"),
    "l2 negative": (lambda: linear_ce_loss(W, B, X, YL, -0.1), ValueError, r"l2: expected a finite number >= 0, got -0.1"),
    "X dtype": (lambda: linear_ce_loss(W, B, X.float(), YL), TypeError, r"X: expected dtype torch.float64"),
    "b shape": (lambda: linear_ce_loss(W, torch.zeros(4, dtype=torch.float64), X, YL), ValueError, r"b: expected shape \(K,\) = \(3,\)"),
    "V shape": (lambda: linear_ce_hvp(W, B, X, YL, torch.zeros(3, 2, dtype=torch.float64)), ValueError, r"V: expected shape"),
}


@pytest.mark.parametrize("disabled", [False, True], ids=["checks on", "validation_disabled"])
@pytest.mark.parametrize("case", list(STILL_CHECKED))
def test_option_shape_and_dtype_checks_stay_on(case, disabled) -> None:
    call, error, message = STILL_CHECKED[case]
    with sce_lib.validation_disabled() if disabled else contextlib.nullcontext():
        with pytest.raises(error, match=message):
            call()


# --------------------------------------------------------------------------- empty batch


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
def test_empty_batch_mean_is_an_error(soft) -> None:
    target = torch.zeros(0, 3, dtype=torch.float64) if soft else torch.zeros(0, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"logits: expected at least one sample \(N >= 1\) for reduction='mean', got N = 0"):
        cross_entropy(torch.zeros(0, 3, dtype=torch.float64), target)


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
def test_empty_batch_sum_is_zero_with_an_empty_gradient(soft) -> None:
    target = torch.zeros(0, 3, dtype=torch.float32) if soft else torch.zeros(0, dtype=torch.int64)
    z = torch.zeros(0, 3, dtype=torch.float32, requires_grad=True)
    loss = cross_entropy(z, target, reduction="sum")
    assert loss.shape == () and loss.dtype == torch.float32 and loss.item() == 0.0
    (g,) = torch.autograd.grad(loss, z)
    assert g.shape == (0, 3)


def test_empty_batch_none_is_an_empty_tensor() -> None:
    rows = cross_entropy(torch.zeros(0, 4, dtype=torch.float64), [], reduction="none")
    assert rows.shape == (0,) and rows.dtype == torch.float64
