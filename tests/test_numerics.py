"""Accuracy against a 50-digit mpmath reference on a grid of extreme and ordinary logits.

The reference evaluates the exact function of the exact floating-point inputs
(mpmath at 50 significant digits), so the measured error is that of sce_lib alone.
Errors are in ulps of the exact result: |computed - exact| / ulp(exact), with ulp
the spacing of the dtype at |exact| (the smallest subnormal for results below the
normal range).  An exact 0 (probability of a -inf logit) or infinity (loss of a -inf
target) must be reproduced exactly.

Measured worst errors on this grid (about 1100 rows per dtype; torch 2.13, CPU), and
the bounds asserted below (worst measured plus a margin of about one ulp for other
CPUs and GPUs):

==================  ===============  ===============
function            float32 (bound)  float64 (bound)
==================  ===============  ===============
softmax             2.74 (4)         2.15 (4)
log_softmax         1.47 (2.5)       1.38 (2.5)
logsumexp (*)       1.32 (2.5)       1.07 (2.5)
cross_entropy       1.74 (3)         1.71 (3)
ce_gradient (p-y)   2.74 (4)         2.59 (4)
==================  ===============  ===============

(*) logsumexp = m + log1p(t) is a sum of two terms that can cancel (e.g. m = -log 2,
t = 1); its error is reported in ulps of |m| + log1p(t), the larger magnitude involved,
which is the accuracy any floating-point evaluation of that sum can promise.

For comparison, on the same grid torch.softmax (exp of a rounded z - m) is off by up
to 62 ulps in float32 and 462 ulps in float64, and torch.log_softmax (z - m - log s)
returns 0 for log-probabilities like -1e-71, an unbounded relative error;
``test_textbook_formulas_are_worse`` re-measures this.  sce_lib avoids both with an
exact (TwoSum) difference and log1p, see sce_lib/functional.py.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import torch

from sce_lib import ce_gradient, cross_entropy, log_softmax, logsumexp, softmax

mpmath.mp.dps = 50
NEG_INF = float("-inf")

# Bounds asserted (worst measured + about 1 ulp of margin, see the table above).
BOUND_ULPS = {"softmax": 4.0, "log_softmax": 2.5, "logsumexp": 2.5, "cross_entropy": 3.0, "ce_gradient": 4.0}

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


def reference(row: list[float]) -> dict[str, list]:
    """Exact values (50 digits) for one row of logits.

    Every quantity is written so that no step cancels, whatever the size of the
    probabilities (a 50-digit ``log(1 + 1e-71)`` would round to 0 just like a float):
    log p_c = -log1p(u_c) with u_c = sum_{j != c} exp(z_j - z_c), and
    p_c - 1 = -sum_{j != c} p_j.
    """
    z = [None if v == NEG_INF else mpmath.mpf(v) for v in row]
    k = len(z)

    def u(c: int) -> mpmath.mpf:
        return mpmath.fsum(mpmath.exp(z[j] - z[c]) for j in range(k) if j != c and z[j] is not None)

    logp = [mpmath.mpf("-inf") if z[c] is None else -mpmath.log1p(u(c)) for c in range(k)]
    p = [mpmath.mpf(0) if z[c] is None else mpmath.exp(logp[c]) for c in range(k)]
    a = max((c for c in range(k) if z[c] is not None), key=lambda c: z[c])
    grad = [[p[j] if j != c else -mpmath.fsum(p[i] for i in range(k) if i != c) for j in range(k)] for c in range(k)]
    log1p_t = mpmath.log1p(u(a))
    return {"p": p, "logp": logp, "grad": grad, "lse": z[a] + log1p_t, "lse_scale": abs(z[a]) + log1p_t}


def ulp(x: mpmath.mpf, dtype: torch.dtype) -> float:
    """Spacing of ``dtype``'s numbers at |x| (the subnormal spacing below the normal range)."""
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    return float(np.spacing(np.abs(np.array(float(x), dtype=np_dtype))))


def ulps(computed: float, exact: mpmath.mpf, dtype: torch.dtype, scale: mpmath.mpf | None = None) -> float:
    if mpmath.isinf(exact) or (exact == 0 and computed == 0):
        assert computed == float(exact), f"expected exactly {exact}, got {computed}"
        return 0.0
    return float(abs(mpmath.mpf(computed) - exact) / ulp(exact if scale is None else scale, dtype))


def measure(dtype: torch.dtype) -> dict[str, tuple[float, list[float]]]:
    """Worst error (ulps) of each function over the grid, with the row where it occurs."""
    worst: dict[str, tuple[float, list[float]]] = {name: (0.0, []) for name in BOUND_ULPS}

    def record(name: str, err: float, row: list[float]) -> None:
        if err > worst[name][0]:
            worst[name] = (err, row)

    rows = grid(dtype)
    for k in sorted({len(r) for r in rows}):
        same_k = [r for r in rows if len(r) == k]
        z = torch.tensor(same_k, dtype=dtype)  # (R, K): one call per function for all rows
        p, logp, lse = softmax(z).tolist(), log_softmax(z).tolist(), logsumexp(z).tolist()
        zz = z.repeat_interleave(k, dim=0)  # row r*k + c has target c
        targets = torch.arange(k).repeat(len(same_k))
        loss = cross_entropy(zz, targets, reduction="none").view(-1, k).tolist()
        grad = ce_gradient(zz, targets).view(-1, k, k).tolist()
        for r, row in enumerate(same_k):
            ref = reference(row)
            record("logsumexp", ulps(lse[r], ref["lse"], dtype, ref["lse_scale"]), row)
            for c in range(k):
                record("softmax", ulps(p[r][c], ref["p"][c], dtype), row)
                record("log_softmax", ulps(logp[r][c], ref["logp"][c], dtype), row)
                record("cross_entropy", ulps(loss[r][c], -ref["logp"][c], dtype), row)
                for j in range(k):
                    record("ce_gradient", ulps(grad[r][c][j], ref["grad"][c][j], dtype), row)
    return worst


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_worst_error_in_ulps_is_small(dtype: torch.dtype) -> None:
    worst = measure(dtype)
    report = {name: round(err, 2) for name, (err, _) in worst.items()}
    print(dtype, report)
    for name, (err, row) in worst.items():
        assert err <= BOUND_ULPS[name], f"{name} ({dtype}): {err:.2f} ulps at logits {row}"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_textbook_formulas_are_worse(dtype: torch.dtype) -> None:
    """The reason for TwoSum and log1p: torch's kernels, measured the same way."""
    worst_p = worst_logp = 0.0
    for row in grid(dtype)[::2]:
        z = torch.tensor(row, dtype=dtype)
        ref = reference(row)
        p, logp = torch.softmax(z, 0).tolist(), torch.log_softmax(z, 0).tolist()
        for c in range(len(row)):
            worst_p = max(worst_p, ulps(p[c], ref["p"][c], dtype))
            if logp[c] != float(ref["logp"][c]) or not mpmath.isinf(ref["logp"][c]):
                worst_logp = max(worst_logp, ulps(logp[c], ref["logp"][c], dtype))
    assert worst_p > 10 * BOUND_ULPS["softmax"]
    assert worst_logp > 1e6


def test_grid_covers_the_extremes() -> None:
    """The grid really contains the inputs the claims are about."""
    rows32, rows64 = grid(torch.float32), grid(torch.float64)
    assert [1e4, -1e4] in rows32 and [-1e4, 1e4] in rows32
    assert [1e300, -1e300] in rows64 and [0.0, -745.0] in rows64
    assert any(NEG_INF in r for r in rows32) and any(NEG_INF in r for r in rows64)
    assert len(rows32) > 500 and len(rows64) > 500


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
