"""sce_lib under torch.func: grad, jacrev, jacfwd, hessian, jvp, vmap and per-sample gradients.

Every transform of sce_lib is compared with the same transform of torch's own functions
(``F.cross_entropy``, ``torch.softmax``, ...) or with plain ``torch.autograd``, in float64.
Tolerance 1e-12 (relative, and absolute for entries near 0): both sides are a few ulps
(~1e-15) from the exact derivative on these moderate logits, so 1e-12 leaves three orders of
magnitude for summation order, and a wrong formula (a missing term, a wrong sign, a wrong
scale 1/N) misses it by far.

Also: what validation does under a transform (data scans skipped on wrapped tensors, the
option checks kept), documented in sce_lib.functional and sce_lib._validate.core.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, hessian, jacfwd, jacrev, jvp, vmap

import sce_lib
from sce_lib import cross_entropy, linear_ce_hessian, linear_ce_loss, log_softmax, logsumexp, softmax

# torch's first forward-mode AD call loads its jvp decompositions, which scripts them with the
# deprecated torch.jit.script (a DeprecationWarning from inside torch 2.13, not from sce_lib).
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

F64 = torch.float64
TOL = dict(rtol=1e-12, atol=1e-12)
N, K = 5, 4


def _problem(gen: torch.Generator, soft: bool) -> tuple[torch.Tensor, torch.Tensor]:
    z = 2.0 * torch.randn(N, K, generator=gen, dtype=F64)
    if soft:
        return z, torch.softmax(torch.randn(N, K, generator=gen, dtype=F64), dim=1)
    return z, torch.randint(0, K, (N,), generator=gen)


CASES = [(soft, eps, reduction) for soft in (False, True) for eps in (0.0, 0.2) for reduction in ("mean", "sum")]
IDS = [f"{'soft' if s else 'index'}-eps{e}-{r}" for s, e, r in CASES]


def _pair(target: torch.Tensor, eps: float, reduction: str):
    ours = lambda z: cross_entropy(z, target, reduction=reduction, label_smoothing=eps)  # noqa: E731
    ref = lambda z: F.cross_entropy(z, target, reduction=reduction, label_smoothing=eps)  # noqa: E731
    return ours, ref


@pytest.mark.parametrize("soft, eps, reduction", CASES, ids=IDS)
def test_grad_jacrev_jvp_match_torch(gen: torch.Generator, soft: bool, eps: float, reduction: str) -> None:
    z, target = _problem(gen, soft)
    ours, ref = _pair(target, eps, reduction)
    torch.testing.assert_close(grad(ours)(z), grad(ref)(z), **TOL)
    torch.testing.assert_close(jacrev(ours)(z), jacrev(ref)(z), **TOL)
    torch.testing.assert_close(jacfwd(ours)(z), jacfwd(ref)(z), **TOL)
    v = torch.randn(N, K, generator=gen, dtype=F64)
    value, tangent = jvp(ours, (z,), (v,))
    value_ref, tangent_ref = jvp(ref, (z,), (v,))
    torch.testing.assert_close(value, value_ref, **TOL)
    torch.testing.assert_close(tangent, tangent_ref, **TOL)
    # and the plain autograd gradient is the same vector
    zz = z.clone().requires_grad_()
    (g,) = torch.autograd.grad(ours(zz), zz)
    torch.testing.assert_close(grad(ours)(z), g, **TOL)


@pytest.mark.parametrize("soft, eps, reduction", CASES, ids=IDS)
def test_hessian_matches_torch_and_ce_hessian(gen: torch.Generator, soft: bool, eps: float, reduction: str) -> None:
    z, target = _problem(gen, soft)
    ours, ref = _pair(target, eps, reduction)
    H = hessian(ours)(z)  # (N, K, N, K): forward-over-reverse through sce_lib's backward
    torch.testing.assert_close(H, hessian(ref)(z), **TOL)
    # block-diagonal in the samples, with block n = (diag(p_n) - p_n p_n^T) / N (mean) or / 1 (sum)
    scale = 1.0 / N if reduction == "mean" else 1.0
    blocks = torch.stack([H[n, :, n, :] for n in range(N)])
    torch.testing.assert_close(blocks, scale * sce_lib.ce_hessian(z), **TOL)
    off = H.clone()
    for n in range(N):
        off[n, :, n, :] = 0
    assert bool((off == 0).all())
    # reverse-over-reverse gives the same matrix
    torch.testing.assert_close(jacrev(jacrev(ours))(z), H, **TOL)


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_per_sample_gradients_vmap_grad(gen: torch.Generator, soft: bool, eps: float) -> None:
    z, target = _problem(gen, soft)

    def loss(zn: torch.Tensor, yn: torch.Tensor) -> torch.Tensor:
        return cross_entropy(zn[None], yn[None], label_smoothing=eps)

    per_sample = vmap(grad(loss))(z, target)
    # the per-sample gradient of the mean over a batch of one is row n of the summed gradient
    zz = z.clone().requires_grad_()
    (g,) = torch.autograd.grad(F.cross_entropy(zz, target, reduction="sum", label_smoothing=eps), zz)
    torch.testing.assert_close(per_sample, g, **TOL)
    # independent closed form: p - y_eps
    y = F.one_hot(target, K).to(F64) if not soft else target
    torch.testing.assert_close(per_sample, torch.softmax(z, 1) - ((1 - eps) * y + eps / K), **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_vmap_over_batches_of_batches(gen: torch.Generator, reduction: str) -> None:
    zb = torch.randn(3, N, K, generator=gen, dtype=F64)
    yb = torch.randint(0, K, (3, N), generator=gen)
    y_shared = yb[0]
    for in_dims, args in (((0, 0), (zb, yb)), ((0, None), (zb, y_shared)), ((None, 0), (zb[0], yb))):
        ours = vmap(lambda z, y: cross_entropy(z, y, reduction=reduction), in_dims=in_dims)(*args)
        ref = vmap(lambda z, y: F.cross_entropy(z, y, reduction=reduction), in_dims=in_dims)(*args)
        torch.testing.assert_close(ours, ref, **TOL)
    # a batch dimension that is not the first one
    ours = vmap(lambda z: cross_entropy(z, y_shared, reduction=reduction), in_dims=1)(zb.transpose(0, 1))
    torch.testing.assert_close(ours, vmap(lambda z: F.cross_entropy(z, y_shared, reduction=reduction))(zb), **TOL)


def test_soft_target_gradient_and_tangent(gen: torch.Generator) -> None:
    z, y = _problem(gen, soft=True)
    eps = 0.3
    ours = lambda y: cross_entropy(z, y, label_smoothing=eps)  # noqa: E731
    ref = lambda y: F.cross_entropy(z, y, label_smoothing=eps)  # noqa: E731
    torch.testing.assert_close(grad(ours)(y), grad(ref)(y), **TOL)
    torch.testing.assert_close(grad(ours)(y), -(1 - eps) * torch.log_softmax(z, 1) / N, **TOL)
    v = torch.randn(N, K, generator=gen, dtype=F64)
    torch.testing.assert_close(jvp(ours, (y,), (v,))[1], jvp(ref, (y,), (v,))[1], **TOL)
    # mixed second derivative d^2 L / dz_n dy_n = -(1 - eps) (I - p_n 1^T) / N (L is linear in y)
    both = lambda z, y: cross_entropy(z, y, label_smoothing=eps)  # noqa: E731
    both_ref = lambda z, y: F.cross_entropy(z, y, label_smoothing=eps)  # noqa: E731
    torch.testing.assert_close(jacrev(grad(both, argnums=0), argnums=1)(z, y),
                               jacrev(grad(both_ref, argnums=0), argnums=1)(z, y), **TOL)
    mixed = jacrev(grad(both, argnums=0), argnums=1)(z, y)  # (N, K, N, K)
    p = torch.softmax(z, 1)
    for n in range(N):
        want = -(1 - eps) * (torch.eye(K, dtype=F64) - p[n][:, None] * torch.ones(K, dtype=F64)) / N
        torch.testing.assert_close(mixed[n, :, n, :], want, **TOL)


def test_linear_model_hessian_and_per_sample_gradients(gen: torch.Generator) -> None:
    k, d, n = 3, 2, 6
    W = torch.randn(k, d, generator=gen, dtype=F64)
    b = torch.randn(k, generator=gen, dtype=F64)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    y = torch.randint(0, k, (n,), generator=gen)
    l2 = 0.1

    def loss(theta: torch.Tensor) -> torch.Tensor:  # theta = vec([W b]) (sce_lib.pack_theta)
        return linear_ce_loss(*sce_lib.unpack_theta(theta, k, d), X, y, l2)

    theta = sce_lib.pack_theta(W, b)
    torch.testing.assert_close(hessian(loss)(theta), linear_ce_hessian(W, b, X, y, l2), **TOL)
    per_sample = vmap(grad(lambda W, x, t: linear_ce_loss(W, b, x[None], t[None])), in_dims=(None, 0, 0))(W, X, y)
    want = (torch.softmax(X @ W.T + b, 1) - F.one_hot(y, k).to(F64))[:, :, None] * X[:, None, :]  # (p - y) x^T
    torch.testing.assert_close(per_sample, want, **TOL)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_under_transforms(gen: torch.Generator, name: str) -> None:
    ours_f = {"softmax": softmax, "log_softmax": log_softmax, "logsumexp": logsumexp}[name]
    ref_f = {"softmax": torch.softmax, "log_softmax": torch.log_softmax, "logsumexp": torch.logsumexp}[name]
    z = 2.0 * torch.randn(N, K, generator=gen, dtype=F64)
    w = torch.randn(N, K, generator=gen, dtype=F64)

    def scalar(f):
        return (lambda z: (f(z, 1) * w).sum()) if name != "logsumexp" else (lambda z: (f(z, 1) * w[:, 0]).sum())

    ours, ref = scalar(ours_f), scalar(ref_f)
    torch.testing.assert_close(grad(ours)(z), grad(ref)(z), **TOL)
    torch.testing.assert_close(hessian(ours)(z), hessian(ref)(z), **TOL)
    torch.testing.assert_close(jvp(ours, (z,), (w,))[1], jvp(ref, (z,), (w,))[1], **TOL)
    torch.testing.assert_close(vmap(lambda r: ours_f(r, 0))(z), ref_f(z, 1), **TOL)
    # mapped over the columns (in_dims=1): column j of z, stacked as row j of the result
    by_column = ref_f(z, 0).T if name != "logsumexp" else ref_f(z, 0)
    torch.testing.assert_close(vmap(ours_f, in_dims=(1, None))(z, 0), by_column, **TOL)
    torch.testing.assert_close(vmap(grad(lambda r: ours_f(r, 0)[0] if name != "logsumexp" else ours_f(r, 0)))(z),
                               vmap(grad(lambda r: ref_f(r, 0)[0] if name != "logsumexp" else ref_f(r, 0)))(z), **TOL)


@pytest.mark.parametrize("vectorize", [False, True])
def test_torch_autograd_functional_jacobian_and_hessian(gen: torch.Generator, vectorize: bool) -> None:
    # vectorize=True runs the backward on batched cotangents (torch's own vmap): the backward must
    # not write into them
    z, target = _problem(gen, soft=False)
    ours = lambda z: cross_entropy(z, target, reduction="none")  # noqa: E731
    ref = lambda z: F.cross_entropy(z, target, reduction="none")  # noqa: E731
    jac = torch.autograd.functional.jacobian
    torch.testing.assert_close(jac(ours, z, vectorize=vectorize), jac(ref, z, vectorize=vectorize), **TOL)
    hess = torch.autograd.functional.hessian
    torch.testing.assert_close(hess(lambda z: ours(z).sum(), z, vectorize=vectorize),
                               hess(lambda z: ref(z).sum(), z, vectorize=vectorize), **TOL)


def test_forward_mode_dual_tensors(gen: torch.Generator) -> None:
    import torch.autograd.forward_ad as fwAD

    z, target = _problem(gen, soft=False)
    v = torch.randn(N, K, generator=gen, dtype=F64)
    with fwAD.dual_level():
        ours = fwAD.unpack_dual(cross_entropy(fwAD.make_dual(z, v), target, reduction="none")).tangent
        ref = fwAD.unpack_dual(F.cross_entropy(fwAD.make_dual(z, v), target, reduction="none")).tangent
        soft = fwAD.unpack_dual(softmax(fwAD.make_dual(z, v))).tangent
    torch.testing.assert_close(ours, ref, **TOL)
    p = torch.softmax(z, 1)
    torch.testing.assert_close(soft, p * (v - (p * v).sum(1, keepdim=True)), **TOL)


# --------------------------------------------------------------------------- validation under transforms


def test_data_scans_are_skipped_on_vmapped_tensors() -> None:
    """Under vmap the values cannot be read: a NaN logit gives NaN, not an error (documented)."""
    z = torch.zeros(2, N, K, dtype=F64)
    z[1, 0, 0] = math.nan
    y = torch.zeros(N, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"logits: expected finite values or -inf, got NaN"):
        cross_entropy(z[1], y)  # outside a transform the scan runs
    losses = vmap(lambda zb: cross_entropy(zb, y))(z)
    assert math.isfinite(losses[0].item()) and math.isnan(losses[1].item())
    p = vmap(softmax)(z)
    assert torch.isnan(p[1, 0]).all() and not torch.isnan(p[0]).any()


def test_plain_tensors_are_still_scanned_under_grad() -> None:
    """A target captured by the closure is an ordinary tensor: its range is still checked."""
    z = torch.zeros(N, K, dtype=F64)
    bad = torch.full((N,), K, dtype=torch.int64)
    with pytest.raises(ValueError, match=rf"target: expected class indices in \[0, {K - 1}\], got min {K}"):
        grad(lambda z: cross_entropy(z, bad))(z)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(reduction="avg"), ValueError, r"reduction: expected one of \('mean', 'sum', 'none'\), got 'avg'"),
        (dict(label_smoothing=1.5), ValueError, r"label_smoothing: expected a finite number >= 0 and <= 1, got 1.5"),
        (dict(label_smoothing="0.1"), TypeError, r"label_smoothing: expected a real number, got str"),
    ],
)
def test_option_checks_stay_on_under_transforms(kwargs, error, message) -> None:
    z = torch.zeros(2, N, K, dtype=F64)
    y = torch.zeros(N, dtype=torch.int64)
    with pytest.raises(error, match=message):
        vmap(lambda zb: cross_entropy(zb, y, **kwargs))(z)
    with pytest.raises(error, match=message):
        grad(lambda zb: cross_entropy(zb, y, **kwargs))(z[0])


def test_shape_checks_stay_on_under_transforms() -> None:
    z = torch.zeros(2, N, K, dtype=F64)
    with pytest.raises(ValueError, match=r"target: expected class indices of shape \(N,\) = \(5,\)"):
        vmap(lambda zb: cross_entropy(zb, torch.zeros(N + 1, dtype=torch.int64)))(z)
    with pytest.raises(ValueError, match=r"z: expected K >= 2 classes along dim 0, got K = 1"):
        vmap(lambda zb: softmax(zb, 0))(torch.zeros(3, 1, 4, dtype=F64))
