"""linear_ce_hvp vs reverse-over-reverse and forward-over-reverse Hessian-vector products, digits problem.

Double backward: g = grad(L(theta), theta, create_graph=True), then grad(g . v, theta).
Forward-over-reverse: ``torch.func.jvp(torch.func.grad(L), (theta,), (v,))``, usually the
fastest autodiff HVP.  Both on the same loss written with F.cross_entropy.
N = 1 797, d = 64, K = 10, float64; sce_lib with validation on and off; contender order
rotates.  No goal is set for the HVP (issue #3 asks for the ratios to be reported).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

import sce_lib
from _timing import compare, fmt_ratio, fmt_times, ratio, write_result
from bench_linear_hessian import digits_problem, torch_loss

DOUBLE, FWD_REV = "double backward", "forward-over-reverse (torch.func)"


def main(reps: int = 31) -> dict[str, Any]:
    device = sce_lib.default_device()
    W, b, X, y = digits_problem(device)
    k, d = W.shape
    theta = sce_lib.pack_theta(W, b)
    v = torch.randn(theta.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).to(device)
    f = torch_loss(X, y, k, d)
    grad_f = torch.func.grad(f)

    def double_backward() -> torch.Tensor:
        th = theta.detach().requires_grad_()
        (g,) = torch.autograd.grad(f(th), th, create_graph=True)
        (hv,) = torch.autograd.grad(g @ v, th)
        return hv

    def forward_over_reverse() -> torch.Tensor:
        with warnings.catch_warnings():  # forward-mode decompositions call the deprecated torch.jit.script once
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.func.jvp(grad_f, (theta,), (v,))[1]

    def ours() -> torch.Tensor:
        return sce_lib.linear_ce_hvp(W, b, X, y, v)

    def ours_unchecked() -> torch.Tensor:
        with sce_lib.validation_disabled():
            return sce_lib.linear_ce_hvp(W, b, X, y, v)

    ref = double_backward()
    diffs = {name: float((fn() - ref).abs().max()) for name, fn in
             (("sce_lib", ours), ("unchecked", ours_unchecked), ("forward-over-reverse", forward_over_reverse))}
    for name, diff in diffs.items():
        if not diff <= 1e-12:
            raise AssertionError(f"{name} HVP differs from double backward by {diff:.3g}")
    timings = compare(
        {DOUBLE: double_backward, FWD_REV: forward_over_reverse, "sce_lib.linear_ce_hvp": ours,
         "sce_lib, validation off": ours_unchecked},
        reps=reps,
    )
    for t in timings.values():
        t["ratio_to_double_backward"] = ratio(t, timings[DOUBLE])
        t["ratio_to_forward_over_reverse"] = ratio(t, timings[FWD_REV])
    return {"N": X.shape[0], "d": d, "K": k, "dtype": "float64", "device": str(device), "max_abs_diff": diffs,
            "timings": timings}


def table(r: dict[str, Any]) -> list[str]:
    lines = [f"linear_ce_hvp, digits N = {r['N']}, d = {r['d']}, K = {r['K']}, {r['dtype']} on {r['device']}: "
             f"min / median / max; time ratios (no goal set: reported)"]
    for name, t in r["timings"].items():
        lines.append(f"  {name:<36} {fmt_times(t)}   vs double backward {fmt_ratio(t['ratio_to_double_backward'])}"
                     f"   vs fwd-over-rev {fmt_ratio(t['ratio_to_forward_over_reverse'])}")
    return lines


if __name__ == "__main__":
    res = main()
    print("\n".join(table(res)))
    print("wrote", write_result("linear_hvp", res))
