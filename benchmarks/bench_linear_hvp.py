"""linear_ce_hvp vs the double-backward Hessian-vector product, digits problem.

Double backward: g = grad(L(theta), theta, create_graph=True), then grad(g . v, theta),
on the same loss written with F.cross_entropy.  N = 1 797, d = 64, K = 10, float64.
Issue #3 asks for the ratio to be reported.
"""

from __future__ import annotations

from typing import Any

import torch

import sce_lib
from _timing import compare, fmt_s, write_result
from bench_linear_hessian import digits_problem, torch_loss


def main(reps: int = 31) -> dict[str, Any]:
    device = sce_lib.default_device()
    W, b, X, y = digits_problem(device)
    k, d = W.shape
    theta = torch.cat([W, b[:, None]], dim=1).reshape(-1)
    v = torch.randn(theta.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).to(device)
    f = torch_loss(X, y, k, d)

    def double_backward() -> torch.Tensor:
        th = theta.detach().requires_grad_()
        (g,) = torch.autograd.grad(f(th), th, create_graph=True)
        (hv,) = torch.autograd.grad(g @ v, th)
        return hv

    def ours() -> torch.Tensor:
        return sce_lib.linear_ce_hvp(W, b, X, y, v)

    def ours_unchecked() -> torch.Tensor:
        with sce_lib.validation_disabled():
            return sce_lib.linear_ce_hvp(W, b, X, y, v)

    diff = float((ours() - double_backward()).abs().max())
    if not diff <= 1e-12:
        raise AssertionError(f"linear_ce_hvp differs from double backward by {diff:.3g}")
    timings = compare(
        {"double backward": double_backward, "sce_lib.linear_ce_hvp": ours, "sce_lib, validation off": ours_unchecked},
        reps=reps,
    )
    base = timings["double backward"]["median_s"]
    for t in timings.values():
        t["ratio_to_double_backward"] = t["median_s"] / base
    return {"N": X.shape[0], "d": d, "K": k, "dtype": "float64", "device": str(device), "max_abs_diff": diff, "timings": timings}


def table(r: dict[str, Any]) -> list[str]:
    return [
        f"linear_ce_hvp      {name:<34} {fmt_s(t['median_s'])}   ratio {t['ratio_to_double_backward']:.3f}"
        for name, t in r["timings"].items()
    ]


if __name__ == "__main__":
    res = main()
    print("\n".join(table(res)))
    print("wrote", write_result("linear_hvp", res))
