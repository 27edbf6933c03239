"""First-order methods with chapter 04's smoothness constant: gradient descent and Nesterov.

Both use the step 1/beta, beta = lambda_max(X~^T diag(a) X~)/2 + l2 (a_n = 1/N without weights), with no tuning and no line search:
the step that chapter 05's descent lemma makes safe.
"""

from __future__ import annotations

import math

import torch

from .objective import Objective, smoothness_constant
from .tracker import Tracker

__all__ = ["gradient_descent", "nesterov"]


def gradient_descent(obj: Objective, tr: Tracker, V: torch.Tensor) -> torch.Tensor:
    """theta_{t+1} = theta_t - grad f(theta_t) / beta from theta_0 = V (K, D); returns V (K, D)."""
    step = 1.0 / smoothness_constant(obj.XtT, obj.l2, None if obj.a is None else obj.a[0])
    while True:
        f, g, _ = obj.value_grad(V)
        if tr.record(V, f, float(g.norm())) or tr.done():
            return V
        V = V - step * g


def nesterov(obj: Objective, tr: Tracker, V: torch.Tensor) -> torch.Tensor:
    """Nesterov's accelerated gradient with step 1/beta from theta_0 = V (K, D); returns V (K, D).

    theta_{t+1} = y_t - grad f(y_t)/beta,  y_{t+1} = theta_{t+1} + m_t (theta_{t+1} - theta_t), with
    m_t = t/(t+3) (the convex scheme) when l2 = 0, and the constant
    m = (1 - sqrt(mu/beta)) / (1 + sqrt(mu/beta)), mu = l2 (the strongly convex scheme) when l2 > 0.
    The history's loss is f(theta_t), the sequence the rate theorems bound (one extra evaluation
    of f per iteration); its gradient norm is ||grad f(y_t)||, the one the method computes, and
    the stopping rule tests it: the point returned is that y_t.
    """
    beta = smoothness_constant(obj.XtT, obj.l2, None if obj.a is None else obj.a[0])
    q = math.sqrt(obj.l2 / beta)
    m_const = (1 - q) / (1 + q) if obj.l2 > 0 else None
    theta = Y = V
    t = 0
    while True:
        f, g, _ = obj.value_grad(Y)
        f_theta = f if t == 0 else obj.value(theta)
        if tr.record(Y, f_theta, float(g.norm())) or tr.done():
            tr.history["loss"][-1] = f  # the returned point is y_t: its loss closes the history
            return Y
        new = Y - g / beta
        m = m_const if m_const is not None else t / (t + 3)
        Y = new + m * (new - theta)
        theta = new
        t += 1
