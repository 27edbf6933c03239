r"""Which assumption costs how much: a three-way attribution of P_model − measured, free of its order.

The gap between the model's probability P_model(L) and the measured probability of a trained
network's centred logits is split between three departures from the book's reconstruction
(paper-digest §3.2):

* **O1**, the *law* of the per-sample losses (exponential with mean L under the model);
* **A3**, the *class dependence* of the losses (none under the model: i.i.d. losses in every class);
* **O2**, the *geometry* of the logits beyond the margin (equal non-target logits under the model).

Each coalition S of departures "switched on" defines a set of centred logit vectors, and its
separation probability v(S) (:func:`coalition_values`):

* the losses are the measured ones ℓ_n (O1 on) or their rank-preserving images under Exp(L),
  :func:`exponential_quantile_losses` (O1 off); they stay with their samples (A3 on) or are
  permuted at random across the subset (A3 off);
* each sample's vector is the model's, Δ(λ_n)(e_{y_n} − 1/K) for its loss λ_n (Lemma 1), plus,
  when O2 is on, the sample's measured residual R_n = C z_n − Δ(ℓ_n)(e_{y_n} − 1/K), which is zero
  exactly when O2 holds for that sample.

So v({O1, A3, O2}) is the measured probability, v({O1, A3}) the plug-in, v({O1}) the class-shuffled
plug-in, and v(∅) = P_model(L) is supplied by the caller (its finite-sample counterpart differs
only by the sampling of the subset). :func:`shapley` returns every one of the 3! orders of
switching the departures on, and their average, the Shapley value.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

from .._validate.separability import check_classes, check_diagnostics_inputs, check_positive_array
from .estimator import separation_probability
from .theory import margin_from_loss

__all__ = ["FACTORS", "exponential_quantile_losses", "top_share", "coalition_values", "shapley"]

FACTORS = ("O1", "A3", "O2")
_FLOOR = 1e-300  # as in plug_in_probability: a loss of exactly 0 has margin log(K-1) + 690.8, not +inf


def exponential_quantile_losses(losses: Any) -> np.ndarray:
    r"""The losses' rank-preserving images under Exp(L): the sample with rank r of N gets F⁻¹((r − ½)/N).

    .. math:: \lambda_n = -L\,\log\Bigl(1 - \frac{r_n - \tfrac12}{N}\Bigr),\qquad L = \tfrac1N\textstyle\sum_n \ell_n,

    r_n the rank of ℓ_n (ties broken by position). The result has (nearly) the exponential law of
    O1 with the same mean, and keeps which samples have the larger losses — the class dependence.

    Args:
        losses: (N,) per-sample losses, finite, >= 0, not all 0.

    Returns:
        (N,) float64 array.

    Example:
        >>> np.round(exponential_quantile_losses([3.0, 1.0]), 4)   # L = 2: ranks 2, 1
        array([2.7726, 0.5754])

    Derived in: book/06-separability.md, §Which assumption costs how much.
    """
    ell = check_positive_array(losses, "losses", allow_zero=True)
    if ell.ndim != 1 or ell.size == 0 or not ell.max() > 0:
        raise ValueError(f"losses: expected a non-empty 1-D array with a positive value, got shape {ell.shape}")
    N = ell.size
    ranks = np.empty(N)
    ranks[np.argsort(ell, kind="stable")] = np.arange(1, N + 1)
    return -ell.mean() * np.log1p(-(ranks - 0.5) / N)


def top_share(losses: Any, fraction: float = 0.01) -> float:
    r"""The share of the total loss carried by the largest ⌈fraction·N⌉ per-sample losses.

    Under O1 (Exp(L)) the top 1 % carry about 0.01 (1 + log 100) ≈ 0.056 of the sum.

    Args:
        losses: (N,) per-sample losses, finite, >= 0, not all 0. fraction: in (0, 1].

    Returns:
        A float in (0, 1].

    Example:
        >>> top_share([1.0, 1.0, 2.0, 96.0], 0.25)
        0.96

    Derived in: book/06-separability.md, §The per-sample losses.
    """
    ell = check_positive_array(losses, "losses", allow_zero=True).ravel()
    if ell.size == 0 or not ell.max() > 0:
        raise ValueError(f"losses: expected at least one value > 0, got {ell.size} values all 0")
    if not (isinstance(fraction, (int, float)) and 0 < fraction <= 1):
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    m = math.ceil(fraction * ell.size - 1e-9)
    return float(np.sort(ell)[-m:].sum() / ell.sum())


def coalition_values(logits: Any, labels: Any, losses: Any, K: int, p_model_value: float, *,
                     generator: torch.Generator) -> dict[frozenset, float]:
    r"""v(S) for every coalition S of the departures O1, A3, O2 (see the module docstring).

    Args:
        logits: (N, K) logits of a subset of training samples (centred inside).
        labels: (N,) class indices in [0, K-1]; every class present with two samples or more.
        losses: (N,) the per-sample losses of these logits (−log softmax(z)_y), finite, >= 0.
        K: number of classes, an int >= 2.
        p_model_value: v(∅), the model's probability P_model(L) at the loss value, in [0, 1].
        generator: the ``torch.Generator`` that draws the permutation of the losses (A3 off).

    Returns:
        {frozenset of factor names: probability}, 8 entries.

    Example:
        >>> z = torch.tensor([[2.0, 0, 0], [3.0, 0, 0], [0, 2.0, 0], [0, 4.0, 0]], dtype=torch.float64)
        >>> y = torch.tensor([0, 0, 1, 1]); ell = -torch.log_softmax(z, 1)[torch.arange(4), y]
        >>> v = coalition_values(z, y, ell, 3, 0.9, generator=torch.Generator().manual_seed(0))
        >>> v[frozenset(FACTORS)], v[frozenset()]
        (1.0, 0.9)

    Derived in: book/06-separability.md, §Which assumption costs how much.
    """
    K = check_classes(K)
    z, y, _ = check_diagnostics_inputs(logits, labels)
    if z.shape[1] != K:
        raise ValueError(f"logits: expected K = {K} columns, got shape {tuple(z.shape)}")
    ell = check_positive_array(losses, "losses", allow_zero=True)
    if ell.shape != (z.shape[0],):
        raise ValueError(f"losses: expected shape (N,) = ({z.shape[0]},), got {ell.shape}")
    if not (isinstance(p_model_value, (int, float)) and 0.0 <= p_model_value <= 1.0):
        raise ValueError(f"p_model_value: expected a probability in [0, 1], got {p_model_value!r}")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator, got {type(generator).__name__}")
    z = z.to(torch.float64).cpu()
    y = y.cpu()
    u = torch.nn.functional.one_hot(y, K).to(torch.float64) - 1.0 / K            # (N, K): e_y - 1/K
    ell = np.maximum(ell, _FLOOR)
    losses_for = {True: ell, False: exponential_quantile_losses(ell)}             # keyed by "O1 on"
    perm = torch.randperm(len(ell), generator=generator).numpy()
    residual = (z - z.mean(dim=1, keepdim=True)) - torch.from_numpy(margin_from_loss(ell, K))[:, None] * u
    values = {frozenset(): float(p_model_value)}
    for r in range(1, 4):
        for S in itertools.combinations(FACTORS, r):
            lam = losses_for["O1" in S]
            lam = lam if "A3" in S else lam[perm]
            vec = torch.from_numpy(np.asarray(margin_from_loss(np.maximum(lam, _FLOOR), K)))[:, None] * u
            if "O2" in S:
                vec = vec + residual
            values[frozenset(S)] = separation_probability(vec, y)
    return values


def shapley(values: dict[frozenset, float]) -> tuple[dict[tuple[str, ...], dict[str, float]], dict[str, float]]:
    r"""Every order's attribution of v(all) − v(∅) to the three factors, and their average (Shapley).

    For an order (f_1, f_2, f_3), factor f_k is credited v({f_1..f_k}) − v({f_1..f_{k−1}}); the
    Shapley value of a factor is its credit averaged over the 3! orders. Each order's credits, and
    the Shapley values, sum to v(all) − v(∅).

    Args:
        values: {frozenset of factor names: value} for all 8 coalitions of :data:`FACTORS`.

    Returns:
        ({order: {factor: credit}}, {factor: Shapley value}).

    Example:
        >>> v = {frozenset(S): float(len(S)) for r in range(4) for S in itertools.combinations(FACTORS, r)}
        >>> shapley(v)[1]
        {'O1': 1.0, 'A3': 1.0, 'O2': 1.0}

    Derived in: book/06-separability.md, §Which assumption costs how much.
    """
    missing = [set(S) for r in range(4) for S in itertools.combinations(FACTORS, r) if frozenset(S) not in values]
    if missing:
        raise ValueError(f"values: expected all 8 coalitions of {FACTORS}, missing {missing}")
    orders = {}
    for order in itertools.permutations(FACTORS):
        credit, on = {}, frozenset()
        for f in order:
            credit[f] = values[on | {f}] - values[on]
            on = on | {f}
        orders[order] = credit
    return orders, {f: sum(o[f] for o in orders.values()) / len(orders) for f in FACTORS}
