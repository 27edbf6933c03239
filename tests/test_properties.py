"""Algebraic facts, checked by hypothesis on generated inputs (float64).

Settings (tests/conftest.py): 40 derandomised examples per property, no deadline.
Tolerances are stated per test; they are multiples of float64's eps = 2.2e-16 scaled
by the sizes involved (K terms summed, eigenvalues of a K x K matrix).
"""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

import sce_lib
from sce_lib import (
    ce_hessian,
    cross_entropy,
    linear_ce_hessian,
    linear_ce_hvp,
    log_softmax,
    logsumexp,
    softmax,
    softmax_jacobian,
)

F64 = torch.float64
EPS = torch.finfo(F64).eps

logit = st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False)


@st.composite
def logit_rows(draw, max_k: int = 8, max_n: int = 4) -> torch.Tensor:
    k = draw(st.integers(2, max_k))
    n = draw(st.integers(1, max_n))
    return torch.tensor(draw(st.lists(st.lists(logit, min_size=k, max_size=k), min_size=n, max_size=n)), dtype=F64)


@st.composite
def linear_problems(draw):
    k, d, n = draw(st.integers(2, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    gen = torch.Generator().manual_seed(seed)
    W = scale * torch.randn(k, d, generator=gen, dtype=F64)
    b = torch.randn(k, generator=gen, dtype=F64)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    y = torch.randint(0, k, (n,), generator=gen)
    V = torch.randn(k, d + 1, generator=gen, dtype=F64)
    return W, b, X, y, V


@given(logit_rows(), st.floats(-100.0, 100.0))
def test_softmax_is_shift_invariant(z: torch.Tensor, c: float) -> None:
    # z + c rounds each logit by at most ulp(150)/2 = 1.4e-14, which moves p by at most that much.
    torch.testing.assert_close(softmax(z + c), softmax(z), rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(log_softmax(z + c), log_softmax(z), rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(logsumexp(z + c), logsumexp(z) + c, rtol=1e-12, atol=1e-13)


@given(logit_rows())
def test_softmax_rows_are_distributions(z: torch.Tensor) -> None:
    p = softmax(z)
    assert (p >= 0).all() and (p <= 1).all()
    k = z.shape[1]
    torch.testing.assert_close(p.sum(dim=1), torch.ones(z.shape[0], dtype=F64), rtol=0, atol=k * EPS)
    # log_softmax is its log wherever p is a normal number
    torch.testing.assert_close(log_softmax(z).exp(), p, rtol=1e-13, atol=1e-300)
    # logsumexp lies between max and max + log K
    m = z.max(dim=1).values
    lse = logsumexp(z)
    assert (lse >= m).all() and (lse <= m + torch.log(torch.tensor(float(k), dtype=F64)) + 1e-13).all()


@given(logit_rows())
def test_hessian_symmetric_psd_with_ones_in_kernel(z: torch.Tensor) -> None:
    H = ce_hessian(z)
    k = z.shape[1]
    # Independently: the Hessian of torch's own logsumexp (diag(p) - p p^T), by torch.func (reverse
    # over reverse: forward mode loads torch's jit-scripted decompositions, a DeprecationWarning).
    # Both sides evaluate p_i (1 - p_i) as p_i - p_i^2, which cancels where p_i is near 1 (an
    # absolute error of a few eps on entries <= 1/4), and differ by a few ulps in p: atol 64 eps.
    ref = torch.func.vmap(torch.func.jacrev(torch.func.jacrev(lambda r: torch.logsumexp(r, 0))))(z)
    torch.testing.assert_close(H, ref, rtol=1e-12, atol=64 * EPS)
    torch.testing.assert_close(softmax_jacobian(z), ref, rtol=1e-12, atol=64 * EPS)
    ones = torch.ones(k, dtype=F64)
    torch.testing.assert_close(H @ ones, torch.zeros(z.shape[0], k, dtype=F64), rtol=0, atol=4 * k * EPS)
    eig = torch.linalg.eigvalsh(H)
    # eigenvalues in [0, 1/2] up to eigvalsh's backward error, a few eps times ||H|| <= 1/2
    assert (eig >= -8 * k * EPS).all(), eig
    assert (eig <= 0.5 + 8 * k * EPS).all(), eig


@given(logit_rows(), st.integers(0, 2**31 - 1))
def test_cross_entropy_at_least_entropy_of_target(z: torch.Tensor, seed: int) -> None:
    """Gibbs' inequality: CE(y, p) >= H(y), with equality iff p = y."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.softmax(3 * torch.randn(z.shape, generator=gen, dtype=F64), dim=1)
    ce = cross_entropy(z, y, reduction="none")
    entropy = -(y * y.log()).sum(dim=1)
    assert (ce >= entropy - 1e-12 * (1 + entropy.abs())).all()
    torch.testing.assert_close(cross_entropy(y.log(), y, reduction="none"), entropy, rtol=1e-12, atol=1e-12)


@given(linear_problems())
def test_linear_hessian_psd_with_predicted_null_directions(problem) -> None:
    W, b, X, y, V = problem
    k, d = W.shape
    Hm = linear_ce_hessian(W, b, X, y)
    scale = max(1.0, float(X.abs().max()) ** 2)  # entries of H are bounded by max |x~_i x~_j| / 2

    def plain_loss(theta: torch.Tensor) -> torch.Tensor:  # torch's loss; the layout of sce_lib.pack_theta
        W_, b_ = sce_lib.unpack_theta(theta, k, d)
        return torch.nn.functional.cross_entropy(X @ W_.T + b_, y)

    theta = sce_lib.pack_theta(W, b)
    torch.testing.assert_close(Hm, torch.func.jacrev(torch.func.jacrev(plain_loss))(theta), rtol=1e-10, atol=64 * EPS * scale)
    eig = torch.linalg.eigvalsh(Hm)
    assert eig.min() >= -64 * k * (d + 1) * EPS * scale, eig
    # null directions (l2 = 0): adding the same u in R^(d+1) to every class's [w_k; b_k]
    # does not change any softmax, so H (1 u^T) = 0 for every u.
    u = V[0]
    null = torch.ones(k, 1, dtype=F64) * u[None, :]  # (K, d+1), rows all equal to u
    torch.testing.assert_close(Hm @ null.reshape(-1), torch.zeros(k * (d + 1), dtype=F64), rtol=0, atol=64 * EPS * scale)
    torch.testing.assert_close(linear_ce_hvp(W, b, X, y, null), torch.zeros(k, d + 1, dtype=F64), rtol=0, atol=64 * EPS * scale)
    # with l2 > 0 only the bias part of those directions (u = c e_{d+1}) stays null
    H2 = linear_ce_hessian(W, b, X, y, l2=0.5)
    bias_null = torch.zeros(k, d + 1, dtype=F64)
    bias_null[:, d] = 1.0
    torch.testing.assert_close(H2 @ bias_null.reshape(-1), torch.zeros(k * (d + 1), dtype=F64), rtol=0, atol=64 * EPS * scale)
    assert torch.linalg.eigvalsh(H2).min() >= -64 * k * (d + 1) * EPS * scale


@given(linear_problems(), st.sampled_from([0.0, 0.25]))
def test_hvp_equals_hessian_times_v(problem, l2: float) -> None:
    W, b, X, y, V = problem
    Hm = linear_ce_hessian(W, b, X, y, l2)
    scale = max(1.0, float(X.abs().max()) ** 2) * max(1.0, float(V.abs().max()))
    torch.testing.assert_close(linear_ce_hvp(W, b, X, y, V.reshape(-1), l2), Hm @ V.reshape(-1), rtol=1e-12, atol=1e-13 * scale)
