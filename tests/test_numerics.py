"""Accuracy against a 50-digit mpmath reference on a grid of extreme and ordinary logits.

The reference evaluates the exact function of the exact floating-point inputs
(mpmath at 50 significant digits), so the measured error is that of sce_lib alone.
Errors are in ulps of the exact result: |computed - exact| / ulp(exact), with ulp
the spacing of the dtype at |exact| (the smallest subnormal for results below the
normal range).  An exact 0 (probability of a -inf logit) or infinity (loss of a -inf
target) must be reproduced exactly.

Measured worst errors on this grid (about 1100 rows per dtype; torch 2.13, CPU), and
the bounds asserted below (worst measured plus a margin of about one ulp for other
CPUs and GPUs).  The values are the same whether or not the input requires a gradient
(one forward path), and both are measured:

==================  ===============  ===============
function            float32 (bound)  float64 (bound)
==================  ===============  ===============
softmax             2.74 (4)         2.15 (4)
log_softmax         1.47 (2.5)       1.38 (2.5)
logsumexp (*)       1.32 (2.5)       1.07 (2.5)
cross_entropy       0.50 (0.5)       1.58 (3)
ce_gradient (p-y)   2.74 (4)         2.59 (4)
autograd grad (**)  62.3 (70)        461.7 (500)
==================  ===============  ===============

(*) logsumexp = m + log1p(t) is a sum of two terms that can cancel (e.g. m = -log 2,
t = 1); its error is reported in ulps of |m| + log1p(t), the larger magnitude involved,
which is the accuracy any floating-point evaluation of that sum can promise.

(**) the gradient of ``cross_entropy`` by autograd, with or without ``create_graph``
(the same numbers): p_c - 1 = expm1(-loss) keeps full relative accuracy, but the other
entries p_j come from torch's fused softmax, whose exp of a rounded z_j - m is off by
about |z_j - m| / 2 ulps in relative terms (worst at z_j - m = -700).  In absolute terms
that is below one ulp of 1, i.e. of the largest entry |p_c - 1|; ``ce_gradient`` is the
componentwise-accurate version (4 ulps), at the cost of the exact shifted form.

For comparison, on the same grid torch.softmax (exp of a rounded z - m) is off by up
to 62 ulps in float32 and 462 ulps in float64, and torch.log_softmax (z - m - log s)
returns 0 for log-probabilities like -1e-71, an unbounded relative error;
``test_textbook_formulas_are_worse`` re-measures this.  sce_lib avoids both with an
exact (TwoSum) difference and log1p, see sce_lib/functional.py.

The exact values come from ``sce_lib.reference`` (mpmath, 50 digits; written so that no
step cancels, see its docstring); ``scipy.special`` is not accurate enough to grade a
few-ulp claim.
"""

from __future__ import annotations

import functools
import itertools
import math

import mpmath
import pytest
import torch

from sce_lib import ce_gradient, cross_entropy, log_softmax, logsumexp, reference, softmax

NEG_INF = float("-inf")

# Bounds asserted (worst measured + about 1 ulp of margin, see the table above).
BOUND_ULPS = {"softmax": 4.0, "log_softmax": 2.5, "logsumexp": 2.5, "cross_entropy": 3.0, "ce_gradient": 4.0}
AUTOGRAD_BOUND_ULPS = {torch.float32: 70.0, torch.float64: 500.0}

SPECIAL = {
    torch.float32: [0.0, 1e-3, 0.1, 0.75, 1.0, math.log(2.0), 2.5, 17.3, 50.0, 88.0, 103.0, 1e3, 9999.5, 1e4],
    torch.float64: [0.0, 1e-3, 0.1, 0.75, 1.0, math.log(2.0), 2.5, 37.0, 200.0, 700.0, 745.0, 1e10, 1e300],
}


def grid(dtype: torch.dtype) -> list[list[float]]:
    """Rows of logits: all pairs of +-special values (and -inf), near-ties, and random rows."""
    vals = sorted({s * v for v in SPECIAL[dtype] for s in (1.0, -1.0)}) + [NEG_INF]
    rows = [[a, b] for a, b in itertools.product(vals, vals) if max(a, b) > NEG_INF]
    rows += [[a, b, c] for a, b, c in itertools.combinations(vals[::3], 3)]
    big = SPECIAL[dtype][-1]
    rows += [[big, big * (1 - 2.0**-k)] for k in range(1, 25, 3)] + [[-big, -big, -big * (1 - 1e-6)]]
    gen = torch.Generator().manual_seed(5)
    for scale, shift in [(1.0, 0.0), (10.0, 0.0), (30.0, 0.0), (3.0, big), (30.0, -big)]:
        rows += ((scale * torch.randn(40, 5, generator=gen, dtype=torch.float64) + shift).to(dtype)).tolist()
    return [torch.tensor(r, dtype=dtype).tolist() for r in rows]  # round once to the dtype


@functools.lru_cache(maxsize=None)
def exact(row: tuple[float, ...]) -> dict[str, list]:
    """Exact values (50 digits, sce_lib.reference) for one row of logits.

    p_c - 1 is written as -sum_{j != c} p_j, so that it keeps its digits where p_c is within
    an ulp of 1; the logsumexp error is graded in ulps of |m| + log1p(t) (see (*) above).
    """
    k = len(row)
    with mpmath.workdps(reference.DIGITS):  # the arithmetic below, at the oracle's precision
        p = reference.softmax(list(row))
        logp = reference.log_softmax(list(row))
        grad = [[p[j] if j != c else -mpmath.fsum(p[i] for i in range(k) if i != c) for j in range(k)] for c in range(k)]
        lse = reference.logsumexp(list(row))
        m = mpmath.mpf(max(row))
        return {"p": p, "logp": logp, "loss": [-v for v in logp], "grad": grad, "lse": lse,
                "lse_scale": abs(m) + (lse - m)}


def ulps(computed: list[float], exact_values: list, dtype: torch.dtype, scale: list | None = None) -> list[float]:
    """Distances in ulps of ``dtype``; an exact 0 or infinity must be reproduced exactly."""
    for c, e in zip(computed, exact_values):
        if mpmath.isinf(e) or e == 0:
            assert c == float(e), f"expected exactly {e}, got {c}"
    with mpmath.workdps(reference.DIGITS):  # ulp_distance reads the mpf values at the current precision
        return reference.ulp_distance(computed, exact_values, dtype, scale=scale).tolist()


def measure(dtype: torch.dtype, requires_grad: bool = False) -> dict[str, tuple[float, list[float]]]:
    """Worst error (ulps) of each function over the grid, with the row where it occurs."""
    names = list(BOUND_ULPS) + ["autograd"]
    worst: dict[str, tuple[float, list[float]]] = {name: (0.0, []) for name in names}

    def record(name: str, errors: list[float], rows: list[list[float]], per_row: int) -> None:
        i = max(range(len(errors)), key=errors.__getitem__)
        if errors[i] > worst[name][0]:
            worst[name] = (errors[i], rows[i // per_row])

    rows = grid(dtype)
    for k in sorted({len(r) for r in rows}):
        same_k = [r for r in rows if len(r) == k]
        z = torch.tensor(same_k, dtype=dtype).requires_grad_(requires_grad)  # (R, K): one call per function
        p, logp, lse = (f(z).detach().reshape(-1).tolist() for f in (softmax, log_softmax, logsumexp))
        zz = torch.tensor(same_k, dtype=dtype).repeat_interleave(k, dim=0).requires_grad_(requires_grad)
        targets = torch.arange(k).repeat(len(same_k))  # row r*k + c has target c
        loss = cross_entropy(zz, targets, reduction="none")
        grad = ce_gradient(zz.detach(), targets).reshape(-1).tolist()
        refs = [exact(tuple(row)) for row in same_k]
        flat = lambda key: [v for ref in refs for v in (ref[key] if isinstance(ref[key], list) else [ref[key]])]  # noqa: E731
        record("logsumexp", ulps(lse, flat("lse"), dtype, flat("lse_scale")), same_k, 1)
        record("softmax", ulps(p, flat("p"), dtype), same_k, k)
        record("log_softmax", ulps(logp, flat("logp"), dtype), same_k, k)
        record("cross_entropy", ulps(loss.detach().tolist(), flat("loss"), dtype), same_k, k)
        exact_grad = [v for ref in refs for row in ref["grad"] for v in row]
        record("ce_gradient", ulps(grad, exact_grad, dtype), same_k, k * k)
        if requires_grad:
            (g,) = torch.autograd.grad(loss.sum(), zz, create_graph=True)
            record("autograd", ulps(g.detach().reshape(-1).tolist(), exact_grad, dtype), same_k, k * k)
    return worst


@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "requires_grad"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_worst_error_in_ulps_is_small(dtype: torch.dtype, requires_grad: bool) -> None:
    worst = measure(dtype, requires_grad)
    report = {name: round(err, 2) for name, (err, _) in worst.items()}
    print(dtype, "requires_grad" if requires_grad else "", report)
    for name, (err, row) in worst.items():
        bound = AUTOGRAD_BOUND_ULPS[dtype] if name == "autograd" else BOUND_ULPS[name]
        assert err <= bound, f"{name} ({dtype}): {err:.2f} ulps at logits {row}"
    if dtype == torch.float32:  # computed in float64 and rounded once (_shifted._ce_rows_wide): half an ulp
        assert worst["cross_entropy"][0] <= 0.5 + 1e-6, worst["cross_entropy"]  # (+ ~2^-40 before rounding)
    if requires_grad:  # the autograd gradient is graded too, and is far from exact only where torch.softmax is
        assert worst["autograd"][0] > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_textbook_formulas_are_worse(dtype: torch.dtype) -> None:
    """The reason for TwoSum and log1p: torch's kernels, measured the same way."""
    worst_p = worst_logp = 0.0
    for row in grid(dtype)[::2]:
        z = torch.tensor(row, dtype=dtype)
        ref = exact(tuple(row))
        p, logp = torch.softmax(z, 0).tolist(), torch.log_softmax(z, 0).tolist()
        worst_p = max(worst_p, max(ulps(p, ref["p"], dtype)))
        finite = [c for c in range(len(row)) if not mpmath.isinf(ref["logp"][c])]
        if finite:
            worst_logp = max(worst_logp, max(ulps([logp[c] for c in finite], [ref["logp"][c] for c in finite], dtype)))
    assert worst_p > 10 * BOUND_ULPS["softmax"]
    assert worst_logp > 1e6


@pytest.mark.parametrize("dtype, big", [(torch.float32, 1e4), (torch.float64, 1e300)])
def test_extreme_logits_give_finite_losses_and_gradients(dtype: torch.dtype, big: float) -> None:
    z = torch.tensor([[big, -big, 0.0], [-big, -big, -big], [big, big, -big]], dtype=dtype)
    for target in ([0, 0, 0], [1, 1, 1], [2, 2, 2]):
        loss = cross_entropy(z, target, reduction="none")
        assert torch.isfinite(loss).all() and (loss >= 0).all()
        zz = z.clone().requires_grad_()
        (g,) = torch.autograd.grad(cross_entropy(zz, target, reduction="sum"), zz)
        assert torch.isfinite(g).all()
        torch.testing.assert_close(g, ce_gradient(z, target), rtol=0, atol=float(torch.finfo(dtype).eps))
    # loss of the class 2*big below the max is 2*big exactly (finite, no overflow)
    assert cross_entropy(z, [1, 0, 2], reduction="none")[0].item() == 2 * big
