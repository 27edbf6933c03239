"""Tests of the oracle sce_lib.reference itself, so that the tests and chapters that measure against it can trust it.

Three independent checks:

* closed forms evaluated by mpmath directly at higher precision (lse of K equal logits is
  z + log K; log p of a dominant class is -log1p(e^-gap); a cross-entropy of equal logits is
  log K), where the oracle must agree to about its 50 digits, also where the result is tiny;
* scipy.special (logsumexp, softmax, log_softmax) as a second, independent float64 reference, on
  logits of moderate size where scipy is accurate to a few ulps (rtol 1e-13 is about 450 ulps of
  margin and still catches any wrong formula, which is off by O(1));
* numpy's np.spacing for the ulp of a format.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special
import torch

from sce_lib import reference
from sce_lib.reference import (
    DIGITS,
    cross_entropy,
    log_softmax,
    logsumexp,
    naive_softmax,
    softmax,
    ulp,
    ulp_distance,
)

REL = mpmath.mpf(10) ** -45  # the oracle works in 50 digits; 45 leaves room for the last digits' rounding


@pytest.fixture(autouse=True)
def _eighty_digits():
    """Closed forms in the tests are evaluated in 80 digits (the oracle sets its own precision)."""
    with mpmath.workdps(80):
        yield


def _close(a: mpmath.mpf, b: mpmath.mpf, rel: mpmath.mpf = REL) -> bool:
    return abs(a - b) <= rel * abs(b)


# ---------------------------------------------------------------------------------------------
# closed forms, at higher precision than the oracle's
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [1, 2, 7, 1000])
@pytest.mark.parametrize("z", [0.0, -3.25, 1e5, -700.5])
def test_lse_of_equal_logits_is_z_plus_log_K(K: int, z: float) -> None:
    with mpmath.workdps(80):
        want = mpmath.mpf(z) + mpmath.log(K)
    assert _close(logsumexp([z] * K), want)
    # and every probability is 1/K, every log-probability -log K
    assert all(_close(p, mpmath.mpf(1) / K) for p in softmax([z] * K))
    if K > 1:
        assert all(_close(lp, -mpmath.log(K)) for lp in log_softmax([z] * K))


def test_lse_near_zero_keeps_its_digits() -> None:
    # log(1/2) rounded to float64 is -0.69314718055994530942 + 2.3e-17: lse of two copies is
    # that rounding error plus log 2, about 2.3e-17, which z + log K computes with 16 digits of
    # cancellation; the oracle must still return 45 correct digits.
    z = math.log(0.5)
    with mpmath.workdps(120):
        want = mpmath.mpf(z) + mpmath.log(2)
    got = logsumexp([z, z])
    assert 1e-18 < abs(float(got)) < 1e-16
    assert _close(got, want)
    # one row of a batch behaves like the 1-D call
    assert _close(logsumexp([[z, z], [0.0, 0.0]])[0], want)


@pytest.mark.parametrize("gap", [1.0, 50.0, 700.0, 1e4])
def test_log_p_of_a_dominant_class_is_exact_when_tiny(gap: float) -> None:
    with mpmath.workdps(80):
        want_logp0 = -mpmath.log1p(mpmath.exp(-gap))  # -1e-4343 for gap = 1e4: far below float64
        want_logp1 = -gap - mpmath.log1p(mpmath.exp(-gap))
    lp0, lp1 = log_softmax([0.0, -gap])
    assert lp0 < 0 and _close(lp0, want_logp0)
    assert _close(lp1, want_logp1)
    assert _close(softmax([0.0, -gap])[1], mpmath.exp(want_logp1))
    # the cross-entropy of the dominant class is that tiny number, positive
    (loss,) = cross_entropy([[0.0, -gap]], [0])
    assert loss > 0 and _close(loss, -want_logp0)


def test_neg_inf_logits() -> None:
    lp = log_softmax([0.0, float("-inf"), 0.0])
    assert lp[1] == mpmath.mpf("-inf") and _close(lp[0], -mpmath.log(2))
    assert softmax([0.0, float("-inf")]) == [1, 0]
    assert logsumexp([0.0, float("-inf")]) == 0
    # a zero target weight on a -inf class contributes 0; a positive one (label smoothing) +inf
    assert cross_entropy([[0.0, float("-inf")]], [0]) == [0]
    assert cross_entropy([[0.0, float("-inf")]], [0], label_smoothing=0.1)[0] == mpmath.mpf("+inf")


# ---------------------------------------------------------------------------------------------
# cross-entropy: targets, label smoothing, reductions
# ---------------------------------------------------------------------------------------------
def test_cross_entropy_forms_agree_with_log_softmax(gen: torch.Generator) -> None:
    z = 3 * torch.randn(4, 5, generator=gen, dtype=torch.float64)
    c = [0, 4, 2, 2]
    logp = log_softmax(z)
    eps = 0.3
    with mpmath.workdps(60):
        hard = [-logp[n][c[n]] for n in range(4)]
        smooth = [(1 - mpmath.mpf(eps)) * hard[n] - mpmath.mpf(eps) / 5 * mpmath.fsum(logp[n]) for n in range(4)]
    assert all(_close(a, b) for a, b in zip(cross_entropy(z, c), hard))
    assert all(_close(a, b) for a, b in zip(cross_entropy(z, c, label_smoothing=eps), smooth))
    onehot = torch.nn.functional.one_hot(torch.tensor(c), 5).to(torch.float64)
    assert all(_close(a, b) for a, b in zip(cross_entropy(z, onehot), hard))  # soft form, one-hot rows
    assert all(_close(a, b) for a, b in zip(cross_entropy(z, onehot, label_smoothing=eps), smooth))
    assert _close(cross_entropy(z, c, reduction="sum"), mpmath.fsum(hard))
    assert _close(cross_entropy(z, c, reduction="mean"), mpmath.fsum(hard) / 4)


def test_cross_entropy_of_equal_logits_is_log_K() -> None:
    y = [[0.25, 0.25, 0.5], [1.0, 0.0, 0.0]]  # rows summing to 1 exactly (the oracle uses them as given)
    for loss in cross_entropy([[2.5] * 3, [-1.0] * 3], y, label_smoothing=0.4):
        assert _close(loss, mpmath.log(3))


# ---------------------------------------------------------------------------------------------
# scipy.special: a second, independent float64 reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.1, 1.0, 10.0, 30.0])
def test_against_scipy_in_float64(scale: float, gen: torch.Generator) -> None:
    z = scale * torch.randn(30, 6, generator=gen, dtype=torch.float64)
    zn = z.numpy()
    np.testing.assert_allclose([float(v) for v in logsumexp(z)], scipy.special.logsumexp(zn, axis=1),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose([[float(v) for v in row] for row in softmax(z)],
                               scipy.special.softmax(zn, axis=1), rtol=1e-13, atol=0)
    np.testing.assert_allclose([[float(v) for v in row] for row in log_softmax(z)],
                               scipy.special.log_softmax(zn, axis=1), rtol=1e-13, atol=1e-15)
    # the naive formula is fine at these sizes in float64
    np.testing.assert_allclose(naive_softmax(z).numpy(), scipy.special.softmax(zn, axis=1), rtol=1e-13, atol=0)


def test_inputs_of_any_real_dtype_are_read_exactly() -> None:
    z32 = torch.tensor([0.1, -2.3, 4.0], dtype=torch.float32)  # 0.1f is not 0.1
    z64 = z32.double()
    assert logsumexp(z32) == logsumexp(z64) == logsumexp(z64.tolist()) == logsumexp(z64.numpy())
    assert logsumexp([1, 2]) == logsumexp([1.0, 2.0])


def test_digits_sets_the_precision() -> None:
    z = [0.0, 1.0]
    with mpmath.workdps(200):
        exact = mpmath.log(1 + mpmath.e)
    low, high = logsumexp(z, digits=20), logsumexp(z, digits=100)
    assert _close(high, exact, mpmath.mpf(10) ** -95)
    assert abs(low - exact) > mpmath.mpf(10) ** -40  # 20 digits are 20 digits
    assert _close(low, exact, mpmath.mpf(10) ** -18)
    assert DIGITS == 50


# ---------------------------------------------------------------------------------------------
# ulps
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("dtype", "np_dtype"), [(torch.float64, np.float64), (torch.float32, np.float32),
                                                 (torch.float16, np.float16)])
def test_ulp_is_numpy_spacing(dtype: torch.dtype, np_dtype, gen: torch.Generator) -> None:
    info = torch.finfo(dtype)
    values = (torch.randn(200, generator=gen, dtype=torch.float64) * 10.0 ** torch.randint(-3, 4, (200,), generator=gen))
    values = values.to(dtype).double().tolist() + [1.0, 2.0, 0.5, info.smallest_normal]
    for x in values:
        assert float(ulp(x, dtype)) == float(np.spacing(np.abs(np_dtype(x)))), x
    # the top binade (np.spacing(max) is the distance to inf)
    assert float(ulp(info.max, dtype)) == info.eps * 2.0 ** (math.frexp(info.max)[1] - 1)
    # below the normal range (and at 0): the smallest subnormal
    assert float(ulp(0.0, dtype)) == float(ulp(info.smallest_normal / 4, dtype)) == float(np.spacing(np_dtype(0)))


def test_ulp_distance() -> None:
    one = 1.0 + 2.0**-52
    exact = [[1, 1], [mpmath.mpf(2) + mpmath.mpf(2) ** -53, 3]]  # 2 + 2^-53 is a quarter ulp above 2
    d = ulp_distance(torch.tensor([[one, 1.0], [2.0, 3.0]], dtype=torch.float64), exact)
    assert d.shape == (2, 2) and d.tolist() == [[1.0, 0.0], [0.25, 0.0]]
    # the unit follows the dtype: one float32 ulp is 2^29 float64 ulps
    assert float(ulp_distance(torch.tensor([1.0 + 2.0**-23]), [1])) == 1.0
    assert float(ulp_distance(torch.tensor([1.0 + 2.0**-23], dtype=torch.float64), [1])) == 2.0**29
    assert float(ulp_distance(torch.tensor([1.0 + 2.0**-23], dtype=torch.float64), [1], torch.float32)) == 1.0
    # infinities must match; NaN never does
    inf = float("inf")
    assert ulp_distance(torch.tensor([-inf, -inf, 0.0, float("nan")]),
                        [mpmath.mpf("-inf"), 0, mpmath.mpf("-inf"), 1]).tolist() == [0.0, inf, inf, inf]
    # a scale: the unit is the ulp of the scale, not of the (near-zero) exact value
    assert float(ulp_distance([1e-16], [0], scale=[1.0])) == pytest.approx(1e-16 / 2.0**-52)


# ---------------------------------------------------------------------------------------------
# the naive formula
# ---------------------------------------------------------------------------------------------
def test_naive_softmax_breaks_where_exp_overflows() -> None:
    # exp overflows above log(max) (11.09, 88.72, 709.78) and underflows to 0 below
    # log(smallest subnormal / 2) (-17.33, -103.97, -745.13)
    for dtype, big, small in ((torch.float16, 12.0, -18.0), (torch.float32, 89.0, -105.0),
                              (torch.float64, 710.0, -746.0)):
        p = naive_softmax(torch.tensor([big, 0.0], dtype=dtype))
        assert p.dtype == dtype and bool(torch.isnan(p[0]))
        q = naive_softmax(torch.tensor([small, small - 1], dtype=dtype))  # 0 / 0
        assert bool(torch.isnan(q).all())


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: logsumexp([0.0, float("nan")]), ValueError, r"z: expected finite values or -inf, got NaN at row 0, class 1"),
        (lambda: softmax([float("inf"), 0.0]), ValueError, r"z: expected finite values or -inf, got \+inf"),
        (lambda: log_softmax([float("-inf")] * 2), ValueError, r"z: expected at least one finite logit in every row"),
        (lambda: logsumexp(torch.zeros(2, 2, 2)), ValueError, r"z: expected a 1-D \(K,\) or 2-D \(N, K\) array"),
        (lambda: logsumexp([True, False]), TypeError, r"z: expected a real floating-point tensor, got a nested list holding bools"),
        (lambda: logsumexp([0.0], digits=10), ValueError, r"digits: expected an int >= 20, got 10"),
        (lambda: logsumexp([0.0], digits=50.0), TypeError, r"digits: expected an int >= 20, got float"),
        (lambda: cross_entropy([0.0, 1.0], [0]), ValueError, r"logits: expected a 2-D array \(N, K\)"),
        (lambda: cross_entropy([[0.0, 1.0]], [2]), ValueError, r"target: expected class indices in \[0, 1\], got 2.0 at index 0"),
        (lambda: cross_entropy([[0.0, 1.0]], [0.5]), ValueError, r"target: expected class indices in \[0, 1\], got 0.5"),
        (lambda: cross_entropy([[0.0, 1.0]], [[0.5, -0.5]]), ValueError, r"target: expected finite probabilities >= 0, got -0.5"),
        (lambda: cross_entropy([[0.0, 1.0]], [[0.5, 0.5, 0.0]]), ValueError, r"target: expected probability rows of shape \(N, K\) = \(1, 2\)"),
        (lambda: cross_entropy([[0.0, 1.0]], [0], label_smoothing=1.5), ValueError, r"label_smoothing: expected a finite number >= 0 and <= 1, got 1.5"),
        (lambda: cross_entropy([[0.0, 1.0]], [0], reduction="avg"), ValueError, r"reduction: expected one of \('none', 'sum', 'mean'\), got 'avg'"),
        (lambda: ulp(1.0, torch.int64), TypeError, r"dtype: expected a floating torch.dtype"),
        (lambda: ulp_distance([1.0, 2.0], [1.0]), ValueError, r"exact: expected 2 values"),
    ],
)
def test_bad_input(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_module_documents_its_precision() -> None:
    assert "50" in (reference.__doc__ or "") and "digits" in (reference.__doc__ or "")
