"""The result of a fit, and the warning a fit that stops early raises."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["FitResult", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """``fit_softmax_regression`` returned ``converged=False``: it stopped at ``max_iter``, could not
    decrease the objective, met a non-finite value, or found that no minimiser exists (separable
    data at l2 = 0); the message names the cause and the fix, ``result.status`` the cause.

    Derived in: book/05-minimisation.md, §The stopping rule.
    """


@dataclass(frozen=True)
class FitResult:
    """What ``fit_softmax_regression`` returns.

    Attributes:
        W: (K, d) weights.  b: (K,) biases (same dtype and device as the inputs).
        loss: final objective, mean cross-entropy + (l2/2) ||W||_F^2 (a float).
        grad_norm: ||grad f(theta)|| at the returned point (Euclidean norm over W and b).
        history: per iteration (entry 0 is the starting point: 0, or ``init``), lists of equal length:
            ``"loss"`` (objective), ``"grad_norm"``, ``"time"`` (seconds since the start).  For
            ``"nesterov"`` the loss is f(theta_t) and the gradient norm is at the extrapolated point
            y_t (where the method computes it); the last entry is the returned y_T's.
        n_iter: iterations done (outer iterations for ``"newton-cg"``).
        converged: True only when grad_norm <= tol * ||grad f(0)|| *and* a minimiser exists:
            with l2 > 0 always (every class has a sample, or there is no bias); with l2 = 0 when
            a certificate says so (``sce_lib.optim.certify``).
        status: why the fit stopped: ``"converged"``, ``"max_iter"``, ``"line_search"`` (no step
            decreased f), ``"non_finite"``, ``"separable"`` (an iterate separates the data: no
            minimiser), ``"no_minimiser"`` (the linear programme found a direction along which f
            decreases forever), ``"uncertified"`` (the stopping rule was met at l2 = 0 but no
            certificate that a minimiser exists could be computed).
        method: the method that ran (what ``"auto"`` picked).
        l2, tol: the settings used.
        n_evals: objective / gradient / Hessian-vector evaluations, by kind (``{"grad": ..,
            "hvp": .., "hvp_float32": .., "hessian": ..}``), the cost the chapter compares;
            ``"hvp_float32"`` counts the products newton-cg's inner solves compute in float32 (half
            the cost of one in float64), ``"hvp"`` those in the data's dtype.

    Example:
        >>> from sce_lib import fit_softmax_regression
        >>> res = fit_softmax_regression([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], l2=0.1)
        >>> res.converged, res.status, res.method, tuple(res.W.shape)
        (True, 'converged', 'newton', (2, 1))
        >>> res.predict([[0.0], [3.0]]).tolist()
        [0, 1]

    Derived in: book/05-minimisation.md, §The stopping rule.
    """

    W: torch.Tensor
    b: torch.Tensor
    loss: float
    grad_norm: float
    history: dict[str, list[float]]
    n_iter: int
    converged: bool
    method: str
    l2: float
    tol: float
    n_evals: dict[str, int] = field(default_factory=dict)
    status: str = "converged"

    @property
    def theta(self) -> torch.Tensor:
        """theta = vec([W b]), class-major, shape (K (d+1),) (the ordering of ``linear_ce_hessian``)."""
        return torch.cat([self.W, self.b[:, None]], dim=1).reshape(-1)

    def decision_function(self, X: torch.Tensor | list) -> torch.Tensor:
        """Logits z = X W^T + b.  X (M, d) -> (M, K)."""
        X = torch.as_tensor(X, dtype=self.W.dtype, device=self.W.device)
        return torch.addmm(self.b, X, self.W.T)

    def predict_proba(self, X: torch.Tensor | list) -> torch.Tensor:
        """softmax(X W^T + b).  X (M, d) -> (M, K), rows summing to 1."""
        return torch.softmax(self.decision_function(X), dim=1)

    def predict(self, X: torch.Tensor | list) -> torch.Tensor:
        """argmax_k (X W^T + b)_k.  X (M, d) -> (M,) int64."""
        return self.decision_function(X).argmax(dim=1)
