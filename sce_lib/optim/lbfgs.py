"""L-BFGS: ``torch.optim.LBFGS`` with the strong-Wolfe line search, under the library's stopping rule.

``torch.optim.LBFGS`` (two-loop recursion, Nocedal & Wright Algorithm 7.4; strong-Wolfe line
search with cubic interpolation, their Algorithms 3.5-3.6) is driven one iteration per
``step`` call, so that the library's tracker sees every iterate and applies its own rule,
||grad f(theta_t)|| <= tol ||grad f(0)||.  torch's own tests are switched off
(``tolerance_grad = tolerance_change = 0``: they are absolute, on the largest gradient entry
and on the change of f).  The closure computes f and grad f with the fused objective (no
autograd graph) and remembers what it evaluated during the last line search, so the
re-evaluation at the accepted point that each ``step`` call begins with is looked up, not
recomputed (the accepted point is bitwise one of the evaluated ones: torch moves to it by the
same ``x + t d`` it evaluated).  Memory: ``HISTORY`` pairs (s, y).

One more of torch's tests is absolute: a pair is stored only when s^T y > 1e-10, in the units of
f.  Near the optimum s^T y ~ ||g||^2 / beta, so with f a mean of O(1) losses the memory stops
being updated once ||g|| falls below ~1e-5 (on the digits at l2 = 1e-3, tol 1e-8: 689 iterations
instead of 141).  L-BFGS with a Wolfe line search is invariant to scaling f by a constant c > 0
except through that test (the first step -g / ||g||_1 is invariant too while c ||g_0||_1 >= 1), so
torch is handed c f with c = 1 / (tol ||grad f(0)||)^2: then the last pairs, s^T y >= ||y||^2 / beta
~ (tol ||grad f(0)||)^2 / beta in f's units, pass the test whenever beta < 1e10.
"""

from __future__ import annotations

import torch

from .objective import Objective
from .tracker import Tracker

__all__ = ["lbfgs", "HISTORY"]

HISTORY = 10
MAX_LINE_SEARCH = 25


def lbfgs(obj: Objective, tr: Tracker, V0: torch.Tensor) -> torch.Tensor:
    """From V0 (K, D); returns V (K, D)."""
    V = torch.nn.Parameter(V0.clone())
    opt = torch.optim.LBFGS([V], lr=1.0, max_iter=1, max_eval=MAX_LINE_SEARCH + 1, history_size=HISTORY,
                            tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")
    seen: list[tuple[torch.Tensor, float, torch.Tensor]] = []  # (V, f, grad f) of the current step
    f, g, _ = obj.value_grad(V.detach())
    seen.append((V.detach().clone(), f, g))
    if tr.record(V.detach(), f, float(g.norm())) or tr.done():
        return V.detach()
    c = 1.0 / (tr.tol * tr.g_ref) ** 2

    def closure() -> float:
        x = V.detach()
        hit = next(((f, g) for v, f, g in seen if torch.equal(v, x)), None)
        if hit is None:
            f, g, _ = obj.value_grad(x)
            seen.append((x.clone(), f, g))
        else:
            f, g = hit
        V.grad = c * g
        return c * f
    while True:
        before = V.detach().clone()
        seen[:] = [s for s in seen if torch.equal(s[0], before)]  # keep only the current point
        opt.step(closure)
        x = V.detach()
        if torch.equal(x, before):  # no step was taken: f cannot be decreased along d to rounding
            return x
        f, g = next((f, g) for v, f, g in seen if torch.equal(v, x))
        if tr.record(x, f, float(g.norm())) or tr.done():
            return x
