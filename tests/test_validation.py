"""Bad input gets a clear error naming the argument, what was expected and what was given.

One test per case of issue #3's list (plus a few more); each asserts the exception
type and a message that names the argument and the received value.  The "meta"
device stands in for a second device, so the device check is tested without a GPU.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch

import sce_lib
from sce_lib import (
    ce_gradient,
    ce_hessian,
    cross_entropy,
    linear_ce_gradient,
    linear_ce_hessian,
    linear_ce_hvp,
    linear_ce_loss,
    log_softmax,
    logsumexp,
    softmax,
    softmax_jacobian,
)

NAN, INF = float("nan"), float("inf")
Z = torch.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, -1.0]], dtype=torch.float64)
Y = torch.tensor([0, 2])
W = torch.zeros(3, 2, dtype=torch.float64)
B = torch.zeros(3, dtype=torch.float64)
X = torch.ones(4, 2, dtype=torch.float64)
YL = torch.tensor([0, 1, 2, 0])

ELEMENTWISE = [softmax, log_softmax, logsumexp, softmax_jacobian, ce_hessian]
LINEAR = [
    lambda W, b, X, y, l2=0.0: linear_ce_loss(W, b, X, y, l2),
    lambda W, b, X, y, l2=0.0: linear_ce_gradient(W, b, X, y, l2),
    lambda W, b, X, y, l2=0.0: linear_ce_hessian(W, b, X, y, l2),
    lambda W, b, X, y, l2=0.0: linear_ce_hvp(W, b, X, y, torch.zeros(3, 3, dtype=torch.float64), l2),
]
LINEAR_IDS = ["loss", "gradient", "hessian", "hvp"]


# --------------------------------------------------------------------------- number of dimensions


@pytest.mark.parametrize("f", [cross_entropy, ce_gradient])
@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_logits_must_be_2d(f, shape) -> None:
    with pytest.raises(ValueError, match=r"logits: expected a 2-D tensor of shape \(N, K\), got \d-D shape"):
        f(torch.zeros(shape), torch.zeros(shape[0], dtype=torch.int64))


@pytest.mark.parametrize("f", ELEMENTWISE)
def test_scalar_logits_rejected(f) -> None:
    with pytest.raises(ValueError, match=r"expected a tensor with at least 1 dimension .* got a 0-D scalar"):
        f(torch.tensor(1.0))


def test_target_with_three_dims() -> None:
    with pytest.raises(ValueError, match=r"target: expected class indices of shape \(N,\) or probability rows .* got a 3-D"):
        cross_entropy(Z, torch.zeros(2, 3, 1))


@pytest.mark.parametrize(
    "args, message",
    [
        ((torch.zeros(3), B, X, YL), r"W: expected a 2-D tensor of shape \(K, d\), got 1-D"),
        ((W, torch.zeros(3, 1, dtype=torch.float64), X, YL), r"b: expected a 1-D tensor of shape \(K,\) = \(3,\), got 2-D"),
        ((W, B, torch.ones(4, dtype=torch.float64), YL), r"X: expected a 2-D tensor of shape \(N, d\) = \(N, 2\), got 1-D"),
        ((W, B, X, YL[:, None]), r"y: expected a 1-D tensor of shape \(N,\) = \(4,\), got 2-D"),
    ],
)
@pytest.mark.parametrize("f", LINEAR, ids=LINEAR_IDS)
def test_linear_model_dims(f, args, message) -> None:
    with pytest.raises(ValueError, match=message):
        f(*args)


# --------------------------------------------------------------------------- K < 2


@pytest.mark.parametrize("f", ELEMENTWISE)
def test_single_class_rejected(f) -> None:
    with pytest.raises(ValueError, match=r"expected K >= 2 classes along dim 1, got K = 1"):
        f(torch.zeros(4, 1))


def test_single_class_rejected_in_cross_entropy() -> None:
    with pytest.raises(ValueError, match=r"logits: expected K >= 2 classes along dim 1, got K = 1"):
        cross_entropy(torch.zeros(4, 1), torch.zeros(4, dtype=torch.int64))


def test_single_class_rejected_in_linear_model() -> None:
    with pytest.raises(ValueError, match=r"W: expected K >= 2 classes \(rows\), got shape \(1, 2\)"):
        linear_ce_loss(torch.zeros(1, 2), torch.zeros(1), torch.ones(4, 2), [0, 0, 0, 0])


def test_softmax_along_a_dim_of_size_one() -> None:
    with pytest.raises(ValueError, match=r"z: expected K >= 2 classes along dim 0, got K = 1"):
        softmax(torch.zeros(1, 5), dim=0)


# --------------------------------------------------------------------------- batch sizes


def test_class_index_batch_size_differs() -> None:
    with pytest.raises(ValueError, match=r"target: expected class indices of shape \(N,\) = \(2,\) .* got shape \(3,\)"):
        cross_entropy(Z, [0, 1, 2])


def test_probability_rows_batch_size_differs() -> None:
    with pytest.raises(ValueError, match=r"target: expected probability rows of shape \(N, K\) = \(2, 3\) .* got shape \(3, 3\)"):
        cross_entropy(Z, torch.full((3, 3), 1 / 3, dtype=torch.float64))


def test_probability_rows_class_count_differs() -> None:
    with pytest.raises(ValueError, match=r"target: expected probability rows of shape \(N, K\) = \(2, 3\) .* got shape \(2, 4\)"):
        ce_gradient(Z, torch.full((2, 4), 0.25, dtype=torch.float64))


def test_linear_model_batch_sizes_differ() -> None:
    with pytest.raises(ValueError, match=r"y: expected shape \(N,\) = \(4,\) to match X \(4, 2\), got \(3,\)"):
        linear_ce_loss(W, B, X, [0, 1, 2])


def test_empty_design_matrix_rejected() -> None:
    with pytest.raises(ValueError, match=r"X: expected at least one sample"):
        linear_ce_loss(W, B, torch.ones(0, 2, dtype=torch.float64), torch.zeros(0, dtype=torch.int64))


# --------------------------------------------------------------------------- integer targets


@pytest.mark.parametrize("f", [cross_entropy, ce_gradient])
@pytest.mark.parametrize("target, got", [([0, 3], "min 0 and max 3"), ([-1, 0], "min -1 and max 0")])
def test_class_index_out_of_range(f, target, got) -> None:
    with pytest.raises(ValueError, match=rf"target: expected class indices in \[0, 2\], got {got}"):
        f(Z, target)


def test_linear_model_label_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"y: expected class indices in \[0, 2\], got min 0 and max 7"):
        linear_ce_gradient(W, B, X, [0, 1, 7, 0])


def test_non_integral_class_index() -> None:
    with pytest.raises(ValueError, match=r"target: expected integer class indices, got non-integral value 1.5 at index 1"):
        cross_entropy(Z, torch.tensor([0.0, 1.5]))


def test_integral_float_class_indices_accepted() -> None:
    loss = cross_entropy(Z, torch.tensor([0.0, 2.0]), reduction="none")
    want = torch.logsumexp(Z, 1) - Z[[0, 1], [0, 2]]  # independent: torch's logsumexp minus the target logit
    torch.testing.assert_close(loss, want, rtol=1e-14, atol=0)


# --------------------------------------------------------------------------- probability targets


def test_negative_probability() -> None:
    y = torch.tensor([[1.2, -0.2, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"target: expected probabilities >= 0, got -0.2 at index \(0, 1\)"):
        cross_entropy(Z, y)


def test_rows_not_summing_to_one() -> None:
    y = torch.tensor([[0.5, 0.5, 0.0], [0.3, 0.3, 0.3]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"target: expected rows summing to 1 \(tolerance .*\), got row 1 summing to 0.8999"):
        cross_entropy(Z, y)


def test_row_sum_tolerance_scales_with_dtype() -> None:
    # A deviation of 1e-6 is float32 rounding (8 K eps32 = 2.9e-6) but far beyond float64's (5.3e-15).
    y = torch.tensor([[0.5, 0.5 + 1e-6, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    assert math.isfinite(cross_entropy(Z.float(), y.float()).item())
    with pytest.raises(ValueError, match=r"got row 0 summing to 1.000001"):
        cross_entropy(Z, y)


def test_nan_in_probability_target() -> None:
    with pytest.raises(ValueError, match=r"target: expected finite values, got NaN at index \(1, 0\)"):
        cross_entropy(Z, torch.tensor([[1.0, 0.0, 0.0], [NAN, 0.5, 0.5]], dtype=torch.float64))


def test_integer_probability_rows_rejected() -> None:
    with pytest.raises(TypeError, match=r"target: expected probability rows with a floating dtype, got torch.int64"):
        cross_entropy(Z, torch.tensor([[1, 0, 0], [0, 1, 0]]))


# --------------------------------------------------------------------------- NaN / inf logits


@pytest.mark.parametrize("bad, what", [(NAN, "NaN"), (INF, r"\+inf")])
@pytest.mark.parametrize("f", ELEMENTWISE + [lambda z: cross_entropy(z, [0, 0]), lambda z: ce_gradient(z, [0, 0])])
def test_nan_and_plus_inf_logits(f, bad, what) -> None:
    z = Z.clone()
    z[1, 2] = bad
    with pytest.raises(ValueError, match=rf"(z|logits): expected finite values or -inf, got {what} at index \(1, 2\)"):
        f(z)


@pytest.mark.parametrize("f", ELEMENTWISE + [lambda z: cross_entropy(z, [0, 0])])
def test_row_of_only_minus_inf(f) -> None:
    z = Z.clone()
    z[1] = -INF
    with pytest.raises(ValueError, match=r"expected at least one finite logit in every slice along dim 1, got all -inf at index \(1,\)"):
        f(z)


@pytest.mark.parametrize("name, pos", [("W", 0), ("b", 1), ("X", 2)])
@pytest.mark.parametrize("bad, what", [(NAN, "NaN"), (INF, r"\+inf"), (-INF, "-inf")])
def test_non_finite_linear_parameters(name, pos, bad, what) -> None:
    args = [W.clone(), B.clone(), X.clone(), YL]
    args[pos].view(-1)[0] = bad
    with pytest.raises(ValueError, match=rf"{name}: expected finite values, got {what} at index"):
        linear_ce_loss(*args)


# --------------------------------------------------------------------------- W / b / X / V shapes


def test_bias_shape_differs_from_weights() -> None:
    with pytest.raises(ValueError, match=r"b: expected shape \(K,\) = \(3,\) to match W \(3, 2\), got \(4,\)"):
        linear_ce_loss(W, torch.zeros(4, dtype=torch.float64), X, YL)


def test_input_dimension_differs_from_weights() -> None:
    with pytest.raises(ValueError, match=r"X: expected shape \(N, d\) = \(N, 2\) to match W \(3, 2\), got \(4, 5\)"):
        linear_ce_hessian(W, B, torch.ones(4, 5, dtype=torch.float64), YL)


def test_hvp_direction_shape() -> None:
    with pytest.raises(ValueError, match=r"V: expected shape \(K\(d\+1\),\) = \(9,\) or \(K, d\+1\) = \(3, 3\), got \(3, 2\)"):
        linear_ce_hvp(W, B, X, YL, torch.zeros(3, 2, dtype=torch.float64))


def test_input_dtype_differs_from_weights() -> None:
    with pytest.raises(TypeError, match=r"X: expected dtype torch.float64 \(the dtype of W\), got torch.float32"):
        linear_ce_loss(W, B, X.float(), YL)


def test_direction_dtype_differs_from_weights() -> None:
    with pytest.raises(TypeError, match=r"V: expected dtype torch.float64 \(the dtype of W\), got torch.float32"):
        linear_ce_hvp(W, B, X, YL, torch.zeros(9))


@pytest.mark.parametrize("disabled", [False, True])
def test_lists_and_integer_data_take_the_weights_dtype(disabled) -> None:
    # lists take W's dtype; integer arrays (e.g. pixel counts) are converted exactly, also with scans off
    with sce_lib.validation_disabled() if disabled else contextlib.nullcontext():
        loss = linear_ce_loss(W.float(), [0.0, 0.0, 0.0], X.int(), YL)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(math.log(3.0), rel=1e-6)  # W = 0, b = 0: uniform over 3 classes


# --------------------------------------------------------------------------- l2, reduction, smoothing, dim


@pytest.mark.parametrize("l2", [-0.1, NAN, INF])
@pytest.mark.parametrize("f", LINEAR, ids=LINEAR_IDS)
def test_bad_l2(f, l2) -> None:
    with pytest.raises(ValueError, match=r"l2: expected a finite number >= 0, got"):
        f(W, B, X, YL, l2)


@pytest.mark.parametrize("l2", ["0.1", None, True])
def test_l2_of_wrong_type(l2) -> None:
    with pytest.raises(TypeError, match=r"l2: expected a real number, got"):
        linear_ce_loss(W, B, X, YL, l2)


def test_unsupported_reduction() -> None:
    with pytest.raises(ValueError, match=r"reduction: expected one of \('mean', 'sum', 'none'\), got 'average'"):
        cross_entropy(Z, Y, reduction="average")


def test_reduction_of_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"reduction: expected one of .* got NoneType"):
        cross_entropy(Z, Y, reduction=None)


@pytest.mark.parametrize("eps, got", [(-0.1, "-0.1"), (1.5, "1.5"), (NAN, "NaN")])
def test_label_smoothing_out_of_range(eps, got) -> None:
    with pytest.raises(ValueError, match=rf"label_smoothing: expected a finite number >= 0 and <= 1, got {got}"):
        cross_entropy(Z, Y, label_smoothing=eps)


def test_reduction_and_label_smoothing_are_keyword_only() -> None:
    with pytest.raises(TypeError, match=r"positional argument"):
        cross_entropy(Z, Y, "sum")


def test_dim_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"dim: expected an int in \[-2, 1\] for a 2-D input, got 2"):
        softmax(Z, dim=2)


def test_dim_of_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"dim: expected an int, got float"):
        log_softmax(Z, dim=1.0)


# --------------------------------------------------------------------------- devices


def test_target_on_another_device() -> None:
    with pytest.raises(ValueError, match=r"target: expected a tensor on cpu \(the device of logits\), got one on meta"):
        cross_entropy(Z, torch.zeros(2, dtype=torch.int64, device="meta"))


@pytest.mark.parametrize("pos, name", [(1, "b"), (2, "X"), (3, "y")])
def test_linear_argument_on_another_device(pos, name) -> None:
    args = [W, B, X, YL]
    args[pos] = args[pos].to("meta")
    with pytest.raises(ValueError, match=rf"{name}: expected a tensor on cpu \(the device of W\), got one on meta"):
        linear_ce_loss(*args)


def test_direction_on_another_device() -> None:
    with pytest.raises(ValueError, match=r"V: expected a tensor on cpu \(the device of W\), got one on meta"):
        linear_ce_hvp(W, B, X, YL, torch.zeros(9, dtype=torch.float64, device="meta"))


# --------------------------------------------------------------------------- dtypes and types


@pytest.mark.parametrize("dtype", [torch.bool, torch.complex64, torch.complex128])
@pytest.mark.parametrize("f", ELEMENTWISE + [lambda z: cross_entropy(z, [0, 0])])
def test_bool_and_complex_logits(f, dtype) -> None:
    with pytest.raises(TypeError, match=rf"(z|logits): expected a real floating-point tensor, got .*{str(dtype).split('.')[1]}"):
        f(torch.ones(2, 3, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.bool, torch.complex128])
@pytest.mark.parametrize(
    "name, call",
    [
        ("target", lambda bad: cross_entropy(Z, torch.ones(2, dtype=bad))),
        ("X", lambda bad: linear_ce_loss(W, B, torch.ones(4, 2, dtype=bad), YL)),
        ("W", lambda bad: linear_ce_loss(torch.ones(3, 2, dtype=bad), B, X, YL)),
    ],
    ids=["target", "X", "W"],
)
def test_bool_and_complex_targets_and_parameters(name, call, dtype) -> None:
    with pytest.raises(TypeError, match=rf"{name}: expected a real floating-point tensor"):
        call(dtype)


@pytest.mark.parametrize("bad", ["abc", {"a": 1}, None, object()])
def test_non_numeric_inputs(bad) -> None:
    with pytest.raises(TypeError, match=r"z: expected a torch.Tensor, numpy.ndarray or nested list of numbers, got"):
        softmax(bad)


def test_ragged_list() -> None:
    with pytest.raises(ValueError, match=r"logits: expected a rectangular nested list of numbers"):
        cross_entropy([[1.0, 2.0], [3.0]], [0, 0])


def test_object_array() -> None:
    with pytest.raises(TypeError, match=r"z: expected a numeric array, got a numpy array of dtype object"):
        softmax(np.array([1.0, "a"], dtype=object))
