"""Tests of sce_lib.data: shapes, dtypes, determinism, standardisation, separability."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sce_lib import data
from sce_lib.data import SeparableToy, digits, gaussian_mixture, separable_toy, standardize_columns


# ---------------------------------------------------------------------------------------------
# digits
# ---------------------------------------------------------------------------------------------
def test_digits_shapes_dtypes_and_classes() -> None:
    X, y = digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == torch.float64 and y.dtype == torch.int64
    assert y.bincount().tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    X32, y32 = digits(dtype=torch.float32)
    assert X32.dtype == torch.float32
    torch.testing.assert_close(X32, X.float())
    assert torch.equal(y32, y)


def test_digits_standardisation() -> None:
    raw, _ = digits(standardize=False)
    X, _ = digits()
    # raw pixel counts are integers 0..16
    assert float(raw.min()) == 0.0 and float(raw.max()) == 16.0 and torch.equal(raw, raw.round())
    constant = raw.std(dim=0) == 0
    assert int(constant.sum()) == 3  # three pixels are blank in every image
    # constant columns become zeros (no division by zero, no NaN); the others mean 0, std 1
    assert bool(torch.isfinite(X).all())
    assert bool((X[:, constant] == 0).all())
    torch.testing.assert_close(X.mean(dim=0), torch.zeros(64, dtype=torch.float64), atol=1e-14, rtol=0)
    torch.testing.assert_close(X[:, ~constant].std(dim=0, correction=0),
                               torch.ones(61, dtype=torch.float64), atol=1e-12, rtol=0)
    # standardising is an affine map per column: it keeps the order of the pixel values
    j = int((~constant).nonzero()[0])
    assert torch.equal(X[:, j].argsort(stable=True), raw[:, j].argsort(stable=True))


def test_digits_standardised_with_a_training_split_only() -> None:
    # The statistics come from the training rows alone: held-out rows do not move them, and the map is
    # the training rows' affine map applied to every row (recomputed here without the library).
    raw, y = digits(standardize=False)
    rows = torch.randperm(1797, generator=torch.Generator().manual_seed(0))[:900]
    X, y2 = digits(train_rows=rows)
    assert torch.equal(y, y2) and X.shape == (1797, 64)
    mean = raw[rows].mean(dim=0)
    std = raw[rows].std(dim=0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    torch.testing.assert_close(X, (raw - mean) / std, rtol=0, atol=1e-13)
    varying = raw[rows].std(dim=0) > 0
    torch.testing.assert_close(X[rows].mean(dim=0), torch.zeros(64, dtype=torch.float64), atol=1e-13, rtol=0)
    torch.testing.assert_close(X[rows][:, varying].std(dim=0, correction=0),
                               torch.ones(int(varying.sum()), dtype=torch.float64), atol=1e-12, rtol=0)
    held_out = torch.ones(1797, dtype=torch.bool)
    held_out[rows] = False
    assert float(X[held_out].mean(dim=0).abs().max()) > 1e-3       # not re-centred on the held-out rows
    # changing the held-out pixels cannot change anything: the map depends on the training rows only
    assert not torch.equal(X, digits()[0])                           # differs from all-rows standardisation
    mask = ~held_out
    X_mask, _ = digits(train_rows=mask)
    torch.testing.assert_close(X_mask, X, rtol=0, atol=1e-13)        # a mask: the same rows, summed in order
    X_np, _ = digits(train_rows=rows.numpy())
    torch.testing.assert_close(X_np, X, rtol=0, atol=0)
    X_list, _ = digits(train_rows=rows.tolist(), dtype=torch.float32)
    assert X_list.dtype == torch.float32
    torch.testing.assert_close(X_list, X.float())
    # all rows as the training split: the same as the default
    torch.testing.assert_close(digits(train_rows=torch.arange(1797))[0], digits()[0], rtol=0, atol=1e-13)


@pytest.mark.parametrize(
    ("rows", "kwargs", "error", "message"),
    [
        (torch.arange(10), {"standardize": False}, ValueError, "train_rows: expected None when standardize=False"),
        (torch.tensor([0, 1797]), {}, ValueError, r"train_rows: expected indices in \[0, 1796\], got 1797"),
        (torch.tensor([-1, 3]), {}, ValueError, r"train_rows: expected indices in \[0, 1796\], got -1"),
        (torch.tensor([2, 2, 3]), {}, ValueError, "train_rows: expected distinct indices, got 1 repeated"),
        (torch.tensor([], dtype=torch.int64), {}, ValueError, "train_rows: expected at least one row, got none"),
        (torch.zeros(1797, dtype=torch.bool), {}, ValueError, "train_rows: expected at least one row, got none"),
        (torch.ones(10, dtype=torch.bool), {}, ValueError,
         "train_rows: expected a boolean mask of length 1797, got length 10"),
        (torch.arange(4).reshape(2, 2), {}, ValueError, r"train_rows: expected a 1-D tensor, got shape \(2, 2\)"),
        (torch.tensor([0.0, 1.0]), {}, TypeError,
         "train_rows: expected integer row indices or a boolean mask, got dtype torch.float32"),
        ([0, 1.5], {}, TypeError, "train_rows: expected integer row indices or a boolean mask, got a list"),
        ("0:10", {}, TypeError, "train_rows: expected integer row indices or a boolean mask, got str"),
    ],
)
def test_digits_train_rows_bad_input(rows, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        digits(train_rows=rows, **kwargs)


def test_standardize_columns() -> None:
    X = torch.tensor([[1.0, 5.0, 0.0], [3.0, 5.0, 2.0], [5.0, 5.0, 4.0]], dtype=torch.float64)
    S = standardize_columns(X)
    expected_first = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64) * math.sqrt(1.5)
    torch.testing.assert_close(S[:, 0], expected_first)
    assert torch.equal(S[:, 1], torch.zeros(3, dtype=torch.float64))
    # integer data follows the library's rule: converted to float64
    torch.testing.assert_close(standardize_columns([[1, 5], [3, 5]]),
                               torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=torch.float64), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        (torch.ones(3), ValueError, r"X: expected a 2-D tensor of shape \(N, d\) with N >= 1, got shape \(3,\)"),
        (torch.ones(0, 2), ValueError, r"X: expected a 2-D tensor of shape \(N, d\) with N >= 1, got shape \(0, 2\)"),
        (torch.ones(2, 2, dtype=torch.bool), TypeError, r"X: expected a real floating-point tensor, got dtype torch.bool"),
        ([[True, False]], TypeError, r"X: expected a real floating-point tensor, got a nested list holding bools"),
        (torch.tensor([[1.0, float("inf")]]), ValueError, r"X: expected finite values, got \+inf at index \(0, 1\)"),
    ],
)
def test_standardize_columns_bad_input(X, error, message) -> None:
    with pytest.raises(error, match=message):
        standardize_columns(X)


def test_digits_bad_input() -> None:
    with pytest.raises(TypeError, match=r"standardize: expected a bool, got int \(1\)"):
        digits(standardize=1)
    with pytest.raises(TypeError, match=r"dtype: expected a floating torch.dtype \(e.g. torch.float64\), got torch.int32"):
        digits(dtype=torch.int32)
    with pytest.raises(TypeError, match=r"dtype: expected a floating torch.dtype \(e.g. torch.float64\), got str"):
        digits(dtype="float64")


# ---------------------------------------------------------------------------------------------
# gaussian_mixture
# ---------------------------------------------------------------------------------------------
def test_gaussian_mixture_shapes_and_determinism() -> None:
    X, y = gaussian_mixture(40, K=4, d=3, separation=2.5, seed=7)
    assert X.shape == (160, 3) and y.shape == (160,)
    assert X.dtype == torch.float64 and y.dtype == torch.int64
    assert y.tolist() == [k for k in range(4) for _ in range(40)]
    X2, y2 = gaussian_mixture(40, K=4, d=3, separation=2.5, seed=7)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = gaussian_mixture(40, K=4, d=3, separation=2.5, seed=8)
    assert not torch.equal(X, X3)
    X32, _ = gaussian_mixture(40, K=4, d=3, separation=2.5, seed=7, dtype=torch.float32)
    assert X32.dtype == torch.float32
    torch.testing.assert_close(X32, X.float())


@pytest.mark.parametrize(("K", "d"), [(2, 1), (3, 2), (5, 4)])
def test_gaussian_mixture_geometry(K: int, d: int) -> None:
    # The means are recovered from a large sample: neighbours `separation` apart, centred at 0.
    # With n = 4000 per class the error of each class mean is about 1/sqrt(4000) ~ 0.016 per
    # coordinate; 0.1 is over 5 standard errors.
    separation = 3.0
    n = 4000
    X, y = gaussian_mixture(n, K=K, d=d, separation=separation, seed=0)
    means = torch.stack([X[y == k].mean(dim=0) for k in range(K)])
    neighbour = torch.linalg.vector_norm(means - means.roll(-1, dims=0), dim=1)[: K - 1 if d == 1 else K]
    torch.testing.assert_close(neighbour, torch.full_like(neighbour, separation), atol=0.1, rtol=0)
    torch.testing.assert_close(means.mean(dim=0), torch.zeros(d, dtype=torch.float64), atol=0.1, rtol=0)
    # unit covariance within each class
    centred = X - means[y]
    torch.testing.assert_close(centred.T @ centred / (K * n), torch.eye(d, dtype=torch.float64), atol=0.05, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_per_class": 0}, ValueError, "n_per_class: expected an int >= 1, got 0"),
        ({"K": 1}, ValueError, "K: expected an int >= 2, got 1"),
        ({"d": 2.0}, TypeError, r"d: expected an int >= 1, got float \(2.0\)"),
        ({"separation": -1.0}, ValueError, "separation: expected a finite number >= 0, got -1.0"),
        ({"separation": float("inf")}, ValueError, r"separation: expected a finite number >= 0, got \+inf"),
        ({"separation": float("nan")}, ValueError, r"separation: expected a finite number >= 0, got NaN"),
        ({"separation": "3"}, TypeError, r"separation: expected a real number, got str"),
        ({"seed": -1}, ValueError, "seed: expected an int >= 0, got -1"),
        ({"dtype": torch.int64}, TypeError, "dtype: expected a floating torch.dtype"),
    ],
)
def test_gaussian_mixture_bad_input(kwargs, error, message) -> None:
    args = {"n_per_class": 5, **kwargs}
    with pytest.raises(error, match=message):
        gaussian_mixture(**args)


# ---------------------------------------------------------------------------------------------
# separable_toy
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separable_toy_is_separated_by_its_classifier(seed: int) -> None:
    toy = separable_toy(seed=seed)
    X, y, W, b = toy  # unpacks as a tuple
    assert isinstance(toy, SeparableToy)
    assert X.shape == (30, 2) and y.shape == (30,) and W.shape == (3, 2) and b.shape == (3,)
    assert y.bincount().tolist() == [10, 10, 10]
    assert bool(((X @ W.T + b).argmax(dim=1) == y).all())
    margins = toy.margins()
    assert margins.shape == (30,) and bool((margins >= 0.5).all())
    assert toy.margin == float(margins.min()) >= 0.5
    # the margin is z_y - max_{k != y} z_k: recompute it without the helper
    z = X @ W.T + b
    for n in range(X.shape[0]):
        others = [float(z[n, k]) for k in range(3) if k != int(y[n])]
        assert float(margins[n]) == pytest.approx(float(z[n, y[n]]) - max(others), abs=1e-14)


def test_separable_toy_determinism_and_options() -> None:
    a, b = separable_toy(seed=4), separable_toy(seed=4)
    assert all(torch.equal(s, t) for s, t in zip(a, b))
    assert not torch.equal(separable_toy(seed=5).X, a.X)
    two = separable_toy(seed=0, n_per_class=25, K=2, min_margin=1.0)
    assert two.X.shape == (50, 2) and two.margin >= 1.0
    low = separable_toy(seed=0, dtype=torch.float32)
    assert low.X.dtype == low.W.dtype == torch.float32 and low.y.dtype == torch.int64
    assert bool(((low.X @ low.W.T + low.b).argmax(dim=1) == low.y).all())


def test_separable_toy_bad_input() -> None:
    with pytest.raises(ValueError, match=r"min_margin: expected a finite number > 0 and < 2, got 2.5"):
        separable_toy(min_margin=2.5)
    with pytest.raises(ValueError, match="min_margin: expected a finite number > 0 and < 2, got 0.0"):
        separable_toy(min_margin=0.0)
    with pytest.raises(TypeError, match="seed: expected an int >= 0, got str"):
        separable_toy(seed="0")
    with pytest.raises(ValueError, match="K: expected an int >= 2, got 1"):
        separable_toy(K=1)


def test_numpy_integers_and_bools_are_accepted() -> None:
    # the rule of the whole library: numpy integers are ints, numpy bools are bools
    X, y = gaussian_mixture(np.int64(3), K=np.int32(2), d=np.int64(1), seed=np.int64(0))
    torch.testing.assert_close(X, gaussian_mixture(3, K=2, d=1, seed=0)[0], rtol=0, atol=0)
    assert torch.equal(digits(standardize=np.bool_(False))[0], digits(standardize=False)[0])


@pytest.mark.gpu
def test_data_on_cuda() -> None:
    X, y = gaussian_mixture(10, seed=3, device="cuda")
    Xc, yc = gaussian_mixture(10, seed=3)
    assert X.device.type == "cuda" and torch.equal(X.cpu(), Xc) and torch.equal(y.cpu(), yc)
    Xd, yd = digits(device="cuda")
    assert Xd.device.type == "cuda" and yd.device.type == "cuda"
    toy = separable_toy(device="cuda")
    assert toy.X.device.type == "cuda" and toy.margin >= 0.5


def test_mnist1d_is_the_published_split_and_standardised_by_the_training_set() -> None:
    from mnist1d.data import get_dataset_args, make_dataset

    raw = make_dataset(get_dataset_args())  # an independent generation, compared entry by entry
    X, y, X_test, y_test = data.mnist1d(standardize=False)
    assert torch.equal(X, torch.as_tensor(raw["x"], dtype=torch.float64))
    assert torch.equal(y_test, torch.as_tensor(raw["y_test"], dtype=torch.int64))
    assert torch.equal(y, torch.as_tensor(raw["y"], dtype=torch.int64))
    Xs, _, Xs_test, _ = data.mnist1d()
    std = X.std(dim=0, correction=0)
    assert torch.allclose(Xs.mean(dim=0), torch.zeros(40, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(Xs.std(dim=0, correction=0), torch.ones(40, dtype=torch.float64), atol=1e-12)
    # the test set goes through the training set's affine map, not its own
    assert torch.allclose(Xs_test, (X_test - X.mean(dim=0)) / std, atol=1e-12)
    assert data.mnist1d(dtype=torch.float32).X.dtype == torch.float32
    with pytest.raises(TypeError, match="standardize"):
        data.mnist1d(standardize=1)


def test_mnist1d_disk_cache_is_written_read_back_and_regenerated_when_unreadable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCE_CACHE_DIR", str(tmp_path))
    data._mnist1d_arrays.cache_clear()
    try:
        first = data.mnist1d(standardize=False)          # generated, then written
        files = list(tmp_path.glob("mnist1d-*.npz"))
        assert len(files) == 1 and not list(tmp_path.glob("*.tmp.npz"))
        data._mnist1d_arrays.cache_clear()
        again = data.mnist1d(standardize=False)          # read back from the file
        assert all(torch.equal(a, b) for a, b in zip(first, again))
        files[0].write_bytes(b"not an npz file")         # unreadable: generated again, rewritten
        data._mnist1d_arrays.cache_clear()
        third = data.mnist1d(standardize=False)
        assert all(torch.equal(a, b) for a, b in zip(first, third))
        with np.load(files[0]) as cached:
            assert np.array_equal(cached["x"], first.X.numpy())
    finally:
        data._mnist1d_arrays.cache_clear()
