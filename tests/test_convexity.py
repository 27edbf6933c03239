"""Tests of sce_lib.convexity: the PSD test and the chord test."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import sce_lib
from sce_lib.convexity import ConvexityViolation, convexity_violations, default_psd_tolerance, is_psd
from sce_lib.data import gaussian_mixture
from sce_lib.hidden_layer import hidden_layer_counterexample


# ---------------------------------------------------------------------------------------------
# is_psd
# ---------------------------------------------------------------------------------------------
def test_is_psd_on_known_psd_matrices(gen: torch.Generator) -> None:
    assert is_psd(torch.eye(3, dtype=torch.float64))
    assert is_psd(torch.zeros(4, 4))  # PSD, not PD
    assert is_psd([[1, -1], [-1, 1]])  # integer lists are accepted (float64)
    assert is_psd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    A = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    assert is_psd(A @ A.T)  # rank 3: three zero eigenvalues, computed as +-1e-16
    assert is_psd((A @ A.T).to(torch.float32))
    assert is_psd((A @ A.T).to(torch.bfloat16)) and not is_psd(torch.tensor([[0.0, 1.0], [1.0, 0.0]]).half())
    z = 5 * torch.randn(20, 7, generator=gen, dtype=torch.float64)
    assert all(is_psd(H) for H in sce_lib.ce_hessian(z))  # singular: 1 in the kernel


def test_is_psd_on_indefinite_and_nonsymmetric_matrices() -> None:
    assert not is_psd([[0.0, 1.0], [1.0, 0.0]])  # eigenvalues +-1
    assert not is_psd(-torch.eye(2, dtype=torch.float64))
    small = torch.diag(torch.tensor([1.0, -1e-6], dtype=torch.float64))
    assert not is_psd(small)  # -1e-6 is far below the default tolerance (~1e-15)
    assert is_psd(small, tol=1e-5)  # ... and within an explicit one
    assert not is_psd([[1.0, 0.5], [0.0, 1.0]])  # not symmetric
    assert not is_psd(torch.diag(torch.tensor([1.0, -1.0])), tol=0.0)


def test_is_psd_with_zero_tolerance() -> None:
    # tol = 0 is a tolerance like any other: an exactly symmetric matrix whose smallest computed
    # eigenvalue is exactly 0 (diagonal: eigvalsh returns the diagonal) or positive is PSD.
    assert is_psd(torch.diag(torch.tensor([1.0, 0.0], dtype=torch.float64)), tol=0)
    assert is_psd(torch.zeros(3, 3, dtype=torch.float64), tol=0.0)
    assert is_psd([[2, 1], [1, 2]], tol=0)  # eigenvalues 1 and 3
    assert not is_psd(torch.diag(torch.tensor([1.0, -1e-300], dtype=torch.float64)), tol=0)
    assert not is_psd([[1.0, 1e-300], [0.0, 1.0]], tol=0)  # asymmetric by one tiny entry


def test_default_tolerance_scales_with_dtype_and_norm() -> None:
    H = torch.eye(4, dtype=torch.float64)  # ||H||_F = 2
    assert default_psd_tolerance(H) == pytest.approx(4 * torch.finfo(torch.float64).eps * 2.0)
    assert default_psd_tolerance(100 * H) == pytest.approx(100 * default_psd_tolerance(H))
    assert default_psd_tolerance(H.float()) > 1e8 * default_psd_tolerance(H)
    # floor 1: a tiny matrix gets the tolerance of an O(1) one (documented) ...
    tiny = 1e-20 * torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64)
    assert default_psd_tolerance(tiny) == pytest.approx(2 * torch.finfo(torch.float64).eps)
    assert is_psd(tiny)
    assert not is_psd(tiny, tol=0.0)  # ... and an explicit tolerance resolves it


def test_is_psd_at_nearly_one_hot_probabilities() -> None:
    # diag(p) - p p^T with p_max = 1 - 1e-9: entries of size 1e-9 carry absolute rounding errors of
    # order eps; the floor in the default tolerance keeps the (true) PSD verdict.
    z = torch.tensor([[0.0, -21.0, -22.0, -25.0, -30.0, -40.0, -45.0]], dtype=torch.float64)
    z = z + 40 * torch.linspace(0, 1, 30, dtype=torch.float64)[:, None] * torch.tensor([1.0, 0, 0, 0, 0, 0, 0])
    assert all(is_psd(H) for H in sce_lib.ce_hessian(z))


@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=6),
       st.integers(min_value=0, max_value=2**31 - 1))
def test_is_psd_property(n: int, r: int, seed: int) -> None:
    # A A^T is PSD for every A. Subtracting (lambda_min + 1e-6) I moves its smallest eigenvalue to
    # -1e-6, far below the default tolerance (n eps ||G||_F < 1e-12 here): no longer PSD.
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, r, generator=g, dtype=torch.float64)
    G = A @ A.T
    assert is_psd(G)
    lam_min = float(torch.linalg.eigvalsh(G)[0])
    assert not is_psd(G - (lam_min + 1e-6) * torch.eye(n, dtype=torch.float64))


@pytest.mark.parametrize(
    ("H", "tol", "error", "message"),
    [
        (torch.ones(2, 3), None, ValueError, r"H: expected a square 2-D matrix \(n, n\), got shape \(2, 3\)"),
        (torch.ones(2, 2, 2), None, ValueError, r"H: expected a square 2-D matrix"),
        (torch.ones(3), None, ValueError, r"H: expected a square 2-D matrix"),
        (torch.empty(0, 0), None, ValueError, r"H: expected a matrix of size n >= 1"),
        (torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), None, ValueError,
         r"H: expected finite values, got NaN at index \(0, 1\)"),
        (torch.tensor([[1.0, 0.0], [float("-inf"), 1.0]]), None, ValueError,
         r"H: expected finite values, got -inf at index \(1, 0\)"),
        (torch.eye(2, dtype=torch.complex128), None, TypeError, r"H: expected a real floating-point tensor"),
        (torch.eye(2, dtype=torch.bool), None, TypeError, r"H: expected a real floating-point tensor, got dtype torch.bool"),
        ([[True, False], [False, True]], None, TypeError, r"H: expected a real floating-point tensor, got a nested list holding bools"),
        ("eye", None, TypeError, r"H: expected a torch.Tensor"),
        (torch.eye(2), -1.0, ValueError, r"tol: expected None or a finite number >= 0, got -1.0"),
        (torch.eye(2), float("nan"), ValueError, r"tol: expected None or a finite number >= 0, got NaN"),
        (torch.eye(2), "small", TypeError, r"tol: expected None or a real number, got str"),
        (torch.eye(2), True, TypeError, r"tol: expected None or a real number, got bool"),
    ],
)
def test_is_psd_bad_input(H, tol, error, message) -> None:
    with pytest.raises(error, match=message):
        is_psd(H, tol=tol)


# ---------------------------------------------------------------------------------------------
# convexity_violations
# ---------------------------------------------------------------------------------------------
def _linear_objective(X: torch.Tensor, y: torch.Tensor, K: int, l2: float = 0.0):
    d = X.shape[1]

    def f(theta: torch.Tensor) -> torch.Tensor:
        return sce_lib.linear_ce_loss(*sce_lib.unpack_theta(theta, K, d), X, y, l2=l2)

    return f


def test_no_violations_for_logsumexp(gen: torch.Generator) -> None:
    # logits across scales, up to 1e3 (float64)
    scales = torch.logspace(-2, 3, 30, dtype=torch.float64)[:, None]
    points = scales * torch.randn(30, 5, generator=gen, dtype=torch.float64)
    assert convexity_violations(sce_lib.logsumexp, points, n_segments=60, n_t=3, generator=gen) == []


def test_no_violations_for_the_linear_classifier(gen: torch.Generator) -> None:
    X, y = gaussian_mixture(15, K=3, d=2, separation=2.0, seed=0)
    f = _linear_objective(X, y, K=3)
    points = 3 * torch.randn(12, 9, generator=gen, dtype=torch.float64)
    assert convexity_violations(f, points, n_segments=40, n_t=3, generator=gen) == []
    # along a null direction, W + 1 u^T, the loss is constant: rounding alone must not be reported
    u = torch.randn(3, generator=gen, dtype=torch.float64).repeat(3)  # (d+1) per class, same for all
    for dtype in (torch.float64, torch.float32):
        f_dtype = _linear_objective(X.to(dtype), y, K=3)
        line = (points[0] + torch.linspace(-5, 5, 6, dtype=torch.float64)[:, None] * u).to(dtype)
        assert convexity_violations(f_dtype, line, n_segments=20, n_t=3) == []


def test_violations_for_negative_square() -> None:
    f = lambda x: -(x**2).sum()  # noqa: E731  (concave)
    points = torch.linspace(-2, 2, 5, dtype=torch.float64)[:, None]
    found = convexity_violations(f, points, n_segments=10, n_t=3)
    assert len(found) == 30  # every interior point of every segment violates
    for v in found:
        assert isinstance(v, ConvexityViolation)
        assert v.lhs == pytest.approx(float(f(v.point)), abs=1e-12)
        assert v.rhs == pytest.approx((1 - v.t) * float(f(v.a)) + v.t * float(f(v.b)), abs=1e-12)
        # for -x^2 the gap is exactly t (1 - t) (a - b)^2
        assert v.gap == pytest.approx(v.t * (1 - v.t) * float(((v.a - v.b) ** 2).sum()), rel=1e-12)
        assert v.gap > v.tol and v.index_a != v.index_b
    gaps = [v.gap for v in found]
    assert gaps == sorted(gaps, reverse=True)


def test_violations_for_the_hidden_layer_network(gen: torch.Generator) -> None:
    ex = hidden_layer_counterexample()
    found = convexity_violations(ex.loss, torch.stack([ex.theta_a, ex.theta_b]), n_segments=2, n_t=3)
    mid = [v for v in found if v.t == 0.5]
    assert mid and mid[0].gap == pytest.approx(ex.loss_mid - ex.loss_a, rel=1e-12)
    # random parameter points: the chord test finds violations here too
    points = 3 * torch.randn(10, ex.theta_a.numel(), generator=gen, dtype=torch.float64)
    assert len(convexity_violations(ex.loss, points, n_segments=20, n_t=3, generator=gen)) > 0


def test_convexity_violations_is_deterministic() -> None:
    f = lambda x: torch.sin(x).sum()  # noqa: E731
    points = torch.linspace(-3, 3, 7, dtype=torch.float64)[:, None]
    first = [(v.index_a, v.index_b, v.t) for v in convexity_violations(f, points, n_segments=15)]
    second = [(v.index_a, v.index_b, v.t) for v in convexity_violations(f, points, n_segments=15)]
    third = [(v.index_a, v.index_b, v.t) for v in convexity_violations(
        f, points, n_segments=15, generator=torch.Generator().manual_seed(0))]
    assert first and first == second == third


def test_numpy_integers_are_ints() -> None:
    # the same rule as everywhere in sce_lib: a numpy integer is an int
    pts = torch.linspace(-1, 1, 3, dtype=torch.float64)[:, None]
    found = convexity_violations(lambda x: -(x**2).sum(), pts, n_segments=np.int64(2), n_t=np.int32(1))
    assert len(found) == 2


def test_convexity_violations_explicit_tolerance() -> None:
    f = lambda x: -(x**2).sum()  # noqa: E731
    points = torch.tensor([[0.0], [1.0]], dtype=torch.float64)  # gap t (1 - t) <= 1/4
    assert convexity_violations(f, points, n_segments=3, n_t=3, tol=0.25) == []
    assert len(convexity_violations(f, points, n_segments=1, n_t=3, tol=0.2)) == 1  # only t = 1/2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"f": 3}, TypeError, r"f: expected a callable"),
        ({"points": torch.zeros(4)}, ValueError, r"points: expected a 2-D tensor \(M, P\) with M >= 2"),
        ({"points": torch.zeros(1, 3)}, ValueError, r"points: expected a 2-D tensor .* got shape \(1, 3\)"),
        ({"points": torch.tensor([[0.0], [float("nan")]])}, ValueError, r"points: expected finite values"),
        ({"points": [[0.0], [True]]}, TypeError, r"points: expected a real floating-point tensor"),
        ({"n_segments": 0}, ValueError, r"n_segments: expected an int >= 1, got 0"),
        ({"n_t": 2.5}, TypeError, r"n_t: expected an int >= 1, got float \(2.5\)"),
        ({"generator": 0}, TypeError, r"generator: expected a torch.Generator or None, got int"),
        ({"tol": -1.0}, ValueError, r"tol: expected None or a finite number >= 0"),
        ({"f": lambda x: torch.stack([x.sum(), x.sum()])}, ValueError, r"f: expected a scalar output, got a tensor of shape \(2,\)"),
        ({"f": lambda x: x.sum() / 0.0 * 0.0}, ValueError, r"f: expected a finite output, got NaN"),
        ({"f": lambda x: x.sum() > 0}, TypeError, r"f: expected a real scalar output, got a tensor of dtype torch.bool"),
        ({"f": lambda x: "one"}, TypeError, r"f: expected a scalar tensor or real number as output, got str"),
    ],
)
def test_convexity_violations_bad_input(kwargs, error, message) -> None:
    args = {"f": lambda x: (x**2).sum(), "points": torch.zeros(3, 2, dtype=torch.float64), **kwargs}
    with pytest.raises(error, match=message):
        convexity_violations(**args)


# ---------------------------------------------------------------------------------------------
# GPU parity
# ---------------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_convexity_on_cuda() -> None:
    cpu = hidden_layer_counterexample()
    gpu = hidden_layer_counterexample(device="cuda")
    assert gpu.theta_a.device.type == "cuda" and gpu.loss_a == gpu.loss_b
    assert gpu.loss_mid == pytest.approx(cpu.loss_mid, rel=1e-12)
    ts = torch.linspace(0, 1, 5, dtype=torch.float64, device="cuda")
    torch.testing.assert_close(gpu.loss_along(ts).cpu(), cpu.loss_along(ts.cpu()), atol=1e-12, rtol=0)
    z = torch.randn(8, 5, dtype=torch.float64, device="cuda")
    assert all(is_psd(H) for H in sce_lib.ce_hessian(z))
    assert not is_psd(torch.tensor([[0.0, 1.0], [1.0, 0.0]], device="cuda"))
    found = convexity_violations(gpu.loss, torch.stack([gpu.theta_a, gpu.theta_b]), n_segments=1, n_t=1)
    assert len(found) == 1 and found[0].a.device.type == "cuda"
