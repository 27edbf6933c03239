"""linear_ce_hessian vs torch.autograd.functional.hessian (vectorize=True) and torch.func.hessian.

The digits problem (scikit-learn's load_digits: N = 1 797, d = 64, K = 10, float64,
pixels scaled to [0, 1]); W drawn N(0, 0.01^2) with a fixed seed, b = 0.  The autograd
sides differentiate the same loss written independently with F.cross_entropy as a
function of theta = sce_lib.pack_theta(W, b).  ``torch.autograd.functional.hessian`` runs
with ``vectorize=True`` (one batched backward through vmap instead of a Python loop over
K(d+1) = 650 rows: its fastest setting).  Also timed: one dense product A^T A with A of
shape (N, K(d+1)), the arithmetic a dense Hessian built from per-sample Jacobians cannot
avoid.  sce_lib is timed with validation on and off; contender order rotates.

Goals (issue #3): >= 10x faster than both autograd routes, the same matrix to 1e-10,
within 2x of the dense product (median ratios).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

import sce_lib
from _timing import compare, fmt_ratio, fmt_times, ratio, write_result

OURS, UNCHECKED = "sce_lib.linear_ce_hessian", "sce_lib, validation off"
AUTOGRAD, FUNC, DENSE = "autograd.functional.hessian (vectorize)", "torch.func.hessian", "dense A^T A"
SPEEDUP_GOAL, DENSE_GOAL = 10.0, 2.0


def digits_problem(device: torch.device) -> tuple[torch.Tensor, ...]:
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float64, device=device)
    y = torch.tensor(y, dtype=torch.int64, device=device)
    gen = torch.Generator().manual_seed(0)
    W = (0.01 * torch.randn(10, X.shape[1], generator=gen, dtype=torch.float64)).to(device)
    b = torch.zeros(10, dtype=torch.float64, device=device)
    return W, b, X, y


def torch_loss(X: torch.Tensor, y: torch.Tensor, k: int, d: int):
    def loss(theta: torch.Tensor) -> torch.Tensor:
        W, b = sce_lib.unpack_theta(theta, k, d)
        return F.cross_entropy(X @ W.T + b, y)

    return loss


def main(reps: int = 15, slow_reps: int = 5) -> dict[str, Any]:
    device = sce_lib.default_device()
    W, b, X, y = digits_problem(device)
    k, d = W.shape
    n = X.shape[0]
    theta = sce_lib.pack_theta(W, b)
    f = torch_loss(X, y, k, d)
    A = torch.randn(n, k * (d + 1), dtype=torch.float64, generator=torch.Generator().manual_seed(1)).to(device)

    def ours() -> torch.Tensor:
        return sce_lib.linear_ce_hessian(W, b, X, y)

    def unchecked() -> torch.Tensor:
        with sce_lib.validation_disabled():
            return sce_lib.linear_ce_hessian(W, b, X, y)

    def autograd() -> torch.Tensor:
        with warnings.catch_warnings():  # vmap's decompositions call the deprecated torch.jit.script once
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.autograd.functional.hessian(f, theta, vectorize=True)

    def func() -> torch.Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.func.hessian(f)(theta)

    H = ours()
    diffs = {"autograd": float((H - autograd()).abs().max()), "func": float((H - func()).abs().max()),
             "unchecked": float((H - unchecked()).abs().max())}
    for name, diff in diffs.items():
        if not diff <= 1e-10:
            raise AssertionError(f"linear_ce_hessian differs from {name} by {diff:.3g} > 1e-10")
    fast = compare({OURS: ours, UNCHECKED: unchecked, DENSE: lambda: A.T @ A}, reps=reps)
    slow = compare({OURS: ours, UNCHECKED: unchecked, AUTOGRAD: autograd, FUNC: func}, reps=slow_reps)
    return {
        "N": n, "d": d, "K": k, "dtype": "float64", "device": str(device),
        "max_abs_diff": diffs, "fast": fast, "slow": slow,
        "goals": {"speedup_vs_autograd": SPEEDUP_GOAL, "speedup_vs_func": SPEEDUP_GOAL, "ratio_to_dense": DENSE_GOAL},
        "ratios": {
            side: {
                "to_dense": ratio(fast[side], fast[DENSE]),
                "speedup_vs_autograd": ratio(slow[AUTOGRAD], slow[side]),
                "speedup_vs_func": ratio(slow[FUNC], slow[side]),
            }
            for side in (OURS, UNCHECKED)
        },
    }


def table(r: dict[str, Any]) -> list[str]:
    lines = [f"linear_ce_hessian, digits N = {r['N']}, d = {r['d']}, K = {r['K']}, {r['dtype']} on {r['device']}: "
             f"min / median / max (fast: {len(r['fast'][OURS]['times_s'])} reps, slow: {len(r['slow'][OURS]['times_s'])})"]
    lines += [f"  {name:<42} {fmt_times(t)}" for name, t in r["fast"].items()]
    lines += [f"  {name:<42} {fmt_times(t)}" for name, t in r["slow"].items() if name in (AUTOGRAD, FUNC)]
    g = r["goals"]
    checks = (("speedup vs autograd", "speedup_vs_autograd", ">=", g["speedup_vs_autograd"]),
              ("speedup vs torch.func", "speedup_vs_func", ">=", g["speedup_vs_func"]),
              ("time / dense A^T A", "to_dense", "<=", g["ratio_to_dense"]))
    for side, rs in r["ratios"].items():
        for label, key, op, goal in checks:
            med = rs[key]["median"]
            met = med >= goal if op == ">=" else med <= goal
            lines.append(f"  {side:<26} {label:<22} {fmt_ratio(rs[key], f'{op} {goal:g}x', met)}")
    lines.append(f"  max |diff| to the autograd Hessians {max(r['max_abs_diff'].values()):.1e}")
    return lines


if __name__ == "__main__":
    res = main()
    print("\n".join(table(res)))
    print("wrote", write_result("linear_hessian", res))
