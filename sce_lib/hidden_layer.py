"""A network with one hidden layer, and a counterexample to the convexity of its loss.

``logits = W2 act(W1 x + c1) + b2`` with ``d`` inputs, ``H`` hidden units and ``K`` classes; its
mean cross-entropy is not convex in the weights. :func:`hidden_layer_counterexample` builds two
parameter points (the same network with its two hidden units swapped) whose midpoint has strictly
larger cross-entropy.

Parameter layout, flattened into one vector ``theta`` of length ``H d + H + K H + K``:
``[W1.reshape(-1), c1, W2.reshape(-1), b2]`` with W1 (H, d), c1 (H,), W2 (K, H), b2 (K,).

Validation (:mod:`sce_lib._validate.hidden_layer`) scans ``theta`` and ``X`` for NaN/inf: on a GPU
that is one host synchronisation per argument; ``validation_disabled()`` skips it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._types import TensorLike
from ._validate.hidden_layer import (
    check_architecture,
    check_network_inputs,
    check_theta,
    check_ts,
    check_unit_index,
    n_params,
)
from ._validate.scalars import check_float_dtype
from .functional import cross_entropy

__all__ = [
    "one_hidden_layer_ce",
    "unpack_one_hidden_layer",
    "swap_hidden_units",
    "HiddenLayerCounterexample",
    "hidden_layer_counterexample",
]

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def unpack_one_hidden_layer(
    theta: TensorLike, d: int, n_hidden: int, n_classes: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split ``theta`` (P,) into ``W1 (H, d), c1 (H,), W2 (K, H), b2 (K,)`` (views, no copy).

    ``P = H d + H + K H + K``; the layout is ``[W1.reshape(-1), c1, W2.reshape(-1), b2]``.

    Args:
        theta: (P,) real parameters (a tensor is split without a copy).
        d, n_hidden, n_classes: inputs d >= 1, hidden units H >= 1, classes K >= 2.

    Returns:
        ``(W1 (H, d), c1 (H,), W2 (K, H), b2 (K,))``, views of ``theta``.

    Example:
        >>> [t.shape for t in unpack_one_hidden_layer(torch.arange(10.0), 1, 2, 2)]
        [torch.Size([2, 1]), torch.Size([2]), torch.Size([2, 2]), torch.Size([2])]
    """
    d, n_hidden, n_classes = check_architecture(d, n_hidden, n_classes)
    return _split(check_theta(theta, d, n_hidden, n_classes), d, n_hidden, n_classes)


def _split(theta: torch.Tensor, d: int, n_hidden: int,
           n_classes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`unpack_one_hidden_layer` without the checks (views of ``theta``)."""
    w1, c1, w2, b2 = torch.split(theta, [n_hidden * d, n_hidden, n_classes * n_hidden, n_classes])
    return w1.view(n_hidden, d), c1, w2.view(n_classes, n_hidden), b2


def _network_logits(theta: torch.Tensor, X: torch.Tensor, n_hidden: int, n_classes: int,
                    activation: str) -> torch.Tensor:
    """``W2 act(W1 x + c1) + b2`` for every row of X: (N, d) -> (N, K).

    Written with broadcasting and sums rather than matrix products, so that swapping two hidden
    units permutes the terms of a two-term sum, which floating point does exactly: the swapped
    network gives bit-identical logits (for d = 1 and H = 2, as in the counterexample).
    """
    W1, c1, W2, b2 = _split(theta, X.shape[1], n_hidden, n_classes)
    hidden = _ACTIVATIONS[activation]((X[:, None, :] * W1).sum(dim=-1) + c1)  # (N, H)
    return (hidden[:, None, :] * W2).sum(dim=-1) + b2  # (N, K)


def one_hidden_layer_ce(
    theta: TensorLike, X: TensorLike, y: TensorLike, *, n_hidden: int, n_classes: int, activation: str = "tanh"
) -> torch.Tensor:
    """Mean cross-entropy of a one-hidden-layer softmax network, from a flat parameter vector.

    ``L(theta) = (1/N) sum_n CE(W2 act(W1 x_n + c1) + b2, y_n)``, with the layout of the module
    docstring and ``sce_lib.cross_entropy`` for CE.

    Args:
        theta: (P,) parameters, ``P = H d + H + K H + K``, real floating.
        X: (N, d) inputs, same dtype and device as ``theta``.
        y: (N,) class indices in [0, K-1].
        n_hidden: H >= 1 hidden units.
        n_classes: K >= 2 classes.
        activation: ``"tanh"`` (default) or ``"relu"``.

    Returns:
        A scalar tensor (dtype and device of ``theta``); differentiable in ``theta``.

    Raises:
        TypeError: ``X`` in another dtype than ``theta``; bool/complex data; non-int sizes.
        ValueError: wrong shapes, NaN/inf, ``n_hidden < 1``, ``n_classes < 2``, unknown
            ``activation``, bad targets.

    Validation scans ``theta``, ``X`` and ``y``: on a GPU, a few host synchronisations per call.

    Example:
        >>> ex = hidden_layer_counterexample()
        >>> float(one_hidden_layer_ce(ex.theta_a, ex.X, ex.y, n_hidden=2, n_classes=2)) == ex.loss_a
        True

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    theta, X, n_hidden, n_classes, activation = check_network_inputs(theta, X, n_hidden, n_classes, activation)
    logits = _network_logits(theta, X, n_hidden, n_classes, activation)
    return cross_entropy(logits, y)


def swap_hidden_units(theta: TensorLike, d: int, n_hidden: int, n_classes: int, i: int = 0,
                      j: int = 1) -> torch.Tensor:
    """The same network with hidden units ``i`` and ``j`` swapped (a new tensor, (P,)).

    Swaps rows i, j of W1, entries i, j of c1 and columns i, j of W2; the network computes the
    same function, so the loss is unchanged (permutation symmetry).

    Args:
        theta: (P,) parameters, layout of the module docstring.
        d, n_hidden, n_classes: the architecture (d >= 1, H >= 1, K >= 2).
        i, j: the hidden units to swap, ints in [0, H - 1].

    Returns:
        (P,) a new tensor, dtype and device of ``theta``.

    Example:
        >>> theta = torch.arange(10.0, dtype=torch.float64)
        >>> swap_hidden_units(theta, 1, 2, 2)[:4].tolist()
        [1.0, 0.0, 3.0, 2.0]

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    d, n_hidden, n_classes = check_architecture(d, n_hidden, n_classes)
    theta = check_theta(theta, d, n_hidden, n_classes)
    i, j = check_unit_index(i, "i", n_hidden), check_unit_index(j, "j", n_hidden)
    swapped = theta.clone()
    W1, c1, W2, _ = _split(swapped, d, n_hidden, n_classes)
    order = list(range(n_hidden))
    order[i], order[j] = order[j], order[i]
    W1.copy_(W1[order].clone())
    c1.copy_(c1[order].clone())
    W2.copy_(W2[:, order].clone())
    return swapped


@dataclass(frozen=True)
class HiddenLayerCounterexample:
    """Two parameter points of a one-hidden-layer network whose midpoint has larger loss.

    ``theta_b`` is ``theta_a`` with its two hidden units swapped, so ``loss_a == loss_b`` exactly,
    while ``loss_mid = L((theta_a + theta_b)/2) > max(loss_a, loss_b)``: the loss is not convex.

    Attributes:
        X: (N, d) inputs (d = 1). y: (N,) class indices.
        n_hidden, n_classes, activation: the architecture (2, 2, "tanh").
        theta_a, theta_b: (P,) parameter points, layout of the module docstring.
        loss_a, loss_b, loss_mid: the mean cross-entropy at theta_a, theta_b and the midpoint.
    """

    X: torch.Tensor
    y: torch.Tensor
    n_hidden: int
    n_classes: int
    activation: str
    theta_a: torch.Tensor
    theta_b: torch.Tensor
    loss_a: float
    loss_b: float
    loss_mid: float

    def loss(self, theta: TensorLike) -> torch.Tensor:
        """The network's mean cross-entropy at ``theta`` (P,): a scalar tensor."""
        return one_hidden_layer_ce(theta, self.X, self.y, n_hidden=self.n_hidden,
                                   n_classes=self.n_classes, activation=self.activation)

    def loss_along(self, ts: TensorLike) -> torch.Tensor:
        """``L((1-t) theta_a + t theta_b)`` for each t in ``ts`` (T,) -> (T,)."""
        ts = check_ts(ts, self.theta_a)
        return torch.stack([self.loss((1 - t) * self.theta_a + t * self.theta_b) for t in ts])

    def chord_along(self, ts: TensorLike) -> torch.Tensor:
        """The chord ``(1-t) loss_a + t loss_b`` for each t in ``ts`` (T,) -> (T,)."""
        ts = check_ts(ts, self.theta_a)
        return (1 - ts) * self.loss_a + ts * self.loss_b


def hidden_layer_counterexample(dtype: torch.dtype = torch.float64,
                                device: torch.device | str | None = None) -> HiddenLayerCounterexample:
    """A deterministic counterexample to convexity of the cross-entropy of a hidden-layer network.

    Data: seven points ``x = -3, ..., 3`` on a line, class 1 where ``|x| >= 2`` (the two ends),
    class 0 in the middle; no linear classifier on x separates them, two tanh units do:

        h_1 = tanh(4 (x - 1.5)),  h_2 = tanh(-4 (x + 1.5)),
        logits = [0, 3 (h_1 + h_2) + 3].

    ``theta_b`` swaps the two hidden units. At the midpoint the input weights average to
    ``(4 + (-4))/2 = 0``: both units become the constant ``tanh(-6)``, the network predicts the
    same class probabilities for every x, and its loss is at least the entropy of the labels
    (``H(3/7) ~ 0.683``), far above ``loss_a ~ 0.05``. Convexity would require
    ``loss_mid <= (loss_a + loss_b)/2 = loss_a``.

    Args:
        dtype: floating dtype of the tensors (default float64).
        device: where the tensors live (default CPU).

    Returns:
        A :class:`HiddenLayerCounterexample` with ``loss_a == loss_b`` (bit-identical) and
        ``loss_mid > loss_a + 1``.

    Example:
        >>> ex = hidden_layer_counterexample()
        >>> ex.loss_a == ex.loss_b, ex.loss_mid > max(ex.loss_a, ex.loss_b) + 0.1
        (True, True)

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    dtype = check_float_dtype(dtype)
    X = torch.arange(-3, 4, dtype=dtype, device=device)[:, None]  # (7, 1)
    y = (X[:, 0].abs() >= 2).to(torch.int64)  # [1, 1, 0, 0, 0, 1, 1]
    slope, threshold, out = 4.0, 1.5, 3.0
    theta_a = torch.tensor(
        [slope, -slope,                           # W1 (2, 1)
         -slope * threshold, -slope * threshold,  # c1 (2,)
         0.0, 0.0, out, out,                      # W2 (2, 2): class 0 logit 0, class 1 logit out (h1 + h2)
         0.0, out],                               # b2 (2,)
        dtype=dtype, device=X.device)
    n_hidden, n_classes = 2, 2
    theta_b = swap_hidden_units(theta_a, 1, n_hidden, n_classes)

    def loss(theta: torch.Tensor) -> float:
        return float(one_hidden_layer_ce(theta, X, y, n_hidden=n_hidden, n_classes=n_classes))

    loss_a, loss_b, loss_mid = loss(theta_a), loss(theta_b), loss((theta_a + theta_b) / 2)
    # The construction guarantees these; raise rather than return a wrong counterexample.
    if not (loss_a == loss_b and loss_mid > max(loss_a, loss_b) + 1.0):
        raise RuntimeError(f"counterexample failed: losses {loss_a}, {loss_b}, midpoint {loss_mid}")
    return HiddenLayerCounterexample(
        X=X, y=y, n_hidden=n_hidden, n_classes=n_classes, activation="tanh", theta_a=theta_a,
        theta_b=theta_b, loss_a=loss_a, loss_b=loss_b, loss_mid=loss_mid)
