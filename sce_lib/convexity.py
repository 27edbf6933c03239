"""Numerical convexity tools: a PSD test, a chord test, and where convexity ends.

* :func:`is_psd` decides whether a symmetric matrix (a Hessian) is positive semidefinite, with a
  tolerance scaled to the dtype and the matrix norm.
* :func:`convexity_violations` looks for points where a function lies *above* its chord,
  ``f((1-t) a + t b) > (1-t) f(a) + t f(b)``, along random segments between given points. Finding
  one disproves convexity; finding none is evidence, not proof.
* :func:`hidden_layer_counterexample` builds a one-hidden-layer network and two parameter points
  (the same network with its two hidden units swapped) whose midpoint has strictly larger
  cross-entropy: the loss of a network with a hidden layer is not convex in its weights.

Parameter layout of the one-hidden-layer network (``d`` inputs, ``H`` hidden units, ``K`` classes),
``logits = W2 act(W1 x + c1) + b2``, flattened into one vector ``theta`` of length
``H d + H + K H + K`` as ``[W1.reshape(-1), c1, W2.reshape(-1), b2]`` with W1 (H, d), c1 (H,),
W2 (K, H), b2 (K,).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ._validate import to_tensor
from .functional import cross_entropy

__all__ = [
    "is_psd",
    "default_psd_tolerance",
    "ConvexityViolation",
    "convexity_violations",
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


# ----------------------------------------------------------------------------------------------
# Boundary checks for this module
# ----------------------------------------------------------------------------------------------
def _real_float_tensor(x: Any, name: str) -> torch.Tensor:
    """Convert ``x`` (tensor, array, nested list) to a real floating tensor; reject bool/complex/NaN/inf."""
    x = to_tensor(x, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if not bool(torch.isfinite(x).all()):
        bad = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise ValueError(f"{name}: expected finite values, got {x[tuple(bad)].item()} at index {tuple(bad)}")
    return x


def _tolerance(tol: Any, name: str = "tol") -> float | None:
    """``None`` or a finite real number >= 0."""
    if tol is None:
        return None
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"{name}: expected None or a real number >= 0, got {type(tol).__name__}")
    value = float(tol)
    if not (value >= 0.0 and math.isfinite(value)):
        raise ValueError(f"{name}: expected None or a finite number >= 0, got {value!r}")
    return value


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected a positive int, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value}")
    return int(value)


# ----------------------------------------------------------------------------------------------
# Positive semidefiniteness
# ----------------------------------------------------------------------------------------------
def default_psd_tolerance(H: torch.Tensor) -> float:
    """The default tolerance of :func:`is_psd`: ``n * eps * max(||H||_F, 1)``.

    ``eigvalsh`` returns each eigenvalue of a symmetric matrix with an absolute error of a small
    multiple of ``eps * ||H||_2 <= eps * ||H||_F``; the factor ``n`` covers the accumulation in
    the reduction to tridiagonal form (the scaling ``numpy.linalg.matrix_rank`` uses). The floor
    ``1`` covers matrices assembled from O(1) numbers with cancellation: ``diag(p) - p p^T`` at a
    nearly one-hot ``p`` has entries ``p_i - p_i^2`` with absolute rounding errors of order
    ``eps`` although the matrix itself may be as small as 1e-10, and its computed smallest
    eigenvalue can then be ``-1e-18`` instead of 0. For a matrix whose natural scale is far below
    1, pass ``tol`` explicitly.

    Args:
        H: (n, n) floating tensor.

    Returns:
        The tolerance, a Python float.
    """
    n = H.shape[-1]
    eps = torch.finfo(H.dtype).eps
    return float(n * eps * max(float(torch.linalg.matrix_norm(H)), 1.0))


def is_psd(H: Any, tol: float | None = None) -> bool:
    """Whether ``H`` is symmetric positive semidefinite: ``H = H^T`` and ``v^T H v >= 0`` for all v.

    Tested as ``max |H - H^T| <= tol`` and ``lambda_min((H + H^T)/2) >= -tol``, with the
    eigenvalues from ``torch.linalg.eigvalsh``. A matrix that is not symmetric within ``tol`` is
    reported as not PSD (a Hessian is always symmetric).

    Args:
        H: (n, n) real matrix, n >= 1; tensor, numpy array or nested list (integers become
            float64). Computed on ``H``'s device in its dtype.
        tol: absolute tolerance >= 0; default ``n * eps * max(||H||_F, 1)`` with ``eps`` of
            ``H``'s dtype (see :func:`default_psd_tolerance`), which absorbs rounding in
            ``eigvalsh`` and in assembling ``H``.

    Returns:
        A Python ``bool``.

    Raises:
        TypeError: bool or complex ``H``; ``tol`` not a real number.
        ValueError: ``H`` not 2-D square, empty, or not finite; ``tol`` negative or not finite.

    Example:
        >>> is_psd([[1.0, -1.0], [-1.0, 1.0]]), is_psd([[0.0, 1.0], [1.0, 0.0]])
        (True, False)

    Derived in: book/03-convexity-logits.md, §Convexity: two proofs.
    """
    H = _real_float_tensor(H, "H")
    if H.dim() != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H: expected a square 2-D matrix (n, n), got shape {tuple(H.shape)}")
    if H.shape[0] == 0:
        raise ValueError("H: expected a matrix of size n >= 1, got shape (0, 0)")
    tolerance = _tolerance(tol)
    if tolerance is None:
        tolerance = default_psd_tolerance(H)
    if float((H - H.T).abs().max()) > tolerance:
        return False
    # eigvalsh has no half-precision kernels: solve those in float32 (the tolerance stays that
    # of H's own dtype, which is the larger one).
    work = H.float() if H.dtype in (torch.float16, torch.bfloat16) else H
    smallest = torch.linalg.eigvalsh((work + work.T) / 2)[0]
    return bool(smallest >= -tolerance)


# ----------------------------------------------------------------------------------------------
# Chord tests along random segments
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvexityViolation:
    """One point where ``f`` lies above its chord: ``f((1-t) a + t b) > (1-t) f(a) + t f(b) + tol``.

    Attributes:
        index_a, index_b: rows of ``points`` that are the segment's ends.
        a, b: those rows, (P,).
        t: position on the segment, in (0, 1).
        lhs: ``f((1-t) a + t b)``.
        rhs: ``(1-t) f(a) + t f(b)`` (the chord).
        gap: ``lhs - rhs`` (> tol).
        tol: the tolerance the test used on this segment.
    """

    index_a: int
    index_b: int
    a: torch.Tensor
    b: torch.Tensor
    t: float
    lhs: float
    rhs: float
    gap: float
    tol: float

    @property
    def point(self) -> torch.Tensor:
        """The violating point ``(1-t) a + t b``, (P,)."""
        return (1 - self.t) * self.a + self.t * self.b


def _scalar_value(value: Any, theta: torch.Tensor) -> torch.Tensor:
    """Check that ``f`` returned one finite real number; return it as a 0-D tensor on theta's device."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"f: expected a scalar output, got a tensor of shape {tuple(value.shape)}")
        value = value.detach().reshape(())
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = torch.tensor(float(value), dtype=theta.dtype, device=theta.device)
    else:
        raise TypeError(f"f: expected a scalar tensor or real number as output, got {type(value).__name__}")
    if not bool(torch.isfinite(value)):
        raise ValueError(f"f: expected a finite output, got {float(value)} at theta = {theta.tolist()}")
    return value.to(device=theta.device, dtype=theta.dtype)


def convexity_violations(
    f: Callable[[torch.Tensor], Any],
    points: Any,
    n_segments: int = 100,
    n_t: int = 5,
    generator: torch.Generator | None = None,
    tol: float | None = None,
) -> list[ConvexityViolation]:
    """Find points where ``f`` is above its chord along random segments between ``points``.

    For each of ``n_segments`` segments, two distinct rows ``a = points[i]``, ``b = points[j]`` are
    drawn uniformly at random, and at ``t = 1/(n_t+1), ..., n_t/(n_t+1)`` (the midpoint is among
    them when ``n_t`` is odd) the test is

        f((1-t) a + t b) <= (1-t) f(a) + t f(b) + tol.

    A convex ``f`` passes every test; one failure disproves convexity. Passing all is evidence,
    not a proof. ``f`` is called once per distinct end point and once per tested interior point.

    Args:
        f: maps a parameter vector (P,) to a scalar (0-D tensor or real number).
        points: (M, P) candidate points, M >= 2 (lists and integer data become float64); the
            segments join pairs of rows. To test given pairs only, pass M = 2.
        n_segments: number of random segments (default 100).
        n_t: interior positions per segment (default 5).
        generator: a ``torch.Generator`` (CPU) for drawing the pairs; default a fresh one seeded
            with 0, so the call is deterministic.
        tol: absolute slack; default ``256 eps (1 + max(|f(a)|, |f(b)|, |f(x_t)|))`` per segment
            with ``eps`` of ``points``' dtype, which absorbs rounding in ``f`` (e.g. an affine
            ``f`` never reports a violation).

    Returns:
        The violations found, as :class:`ConvexityViolation` records sorted by ``gap``, largest
        first; an empty list when there are none.

    Raises:
        TypeError: ``f`` not callable, ``generator`` not a ``torch.Generator``, bad argument types.
        ValueError: ``points`` not 2-D with M >= 2 rows, not finite; ``n_segments`` or ``n_t`` < 1;
            ``f`` returning a non-scalar or non-finite value.

    Example:
        >>> pts = torch.linspace(-2, 2, 5, dtype=torch.float64)[:, None]
        >>> convexity_violations(lambda x: (x ** 2).sum(), pts)
        []
        >>> len(convexity_violations(lambda x: -(x ** 2).sum(), pts)) > 0
        True

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable mapping a (P,) tensor to a scalar, got {type(f).__name__}")
    points = _real_float_tensor(points, "points")
    if points.dim() != 2 or points.shape[0] < 2 or points.shape[1] < 1:
        raise ValueError(f"points: expected a 2-D tensor (M, P) with M >= 2 and P >= 1, got shape {tuple(points.shape)}")
    n_segments = _positive_int(n_segments, "n_segments")
    n_t = _positive_int(n_t, "n_t")
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
    fixed_tol = _tolerance(tol)

    m = points.shape[0]
    first = torch.randint(m, (n_segments,), generator=generator, device=generator.device).tolist()
    offset = torch.randint(m - 1, (n_segments,), generator=generator, device=generator.device).tolist()
    pairs = [(i, j + (j >= i)) for i, j in zip(first, offset)]  # j != i, uniform over the others
    ts = torch.arange(1, n_t + 1, dtype=points.dtype, device=points.device) / (n_t + 1)

    end_values: dict[int, torch.Tensor] = {}
    for index in sorted({k for pair in pairs for k in pair}):
        end_values[index] = _scalar_value(f(points[index]), points[index])
    f_a = torch.stack([end_values[i] for i, _ in pairs])  # (S,)
    f_b = torch.stack([end_values[j] for _, j in pairs])  # (S,)
    f_t = torch.stack([
        torch.stack([_scalar_value(f(x), x) for x in (1 - ts[:, None]) * points[i] + ts[:, None] * points[j]])
        for i, j in pairs
    ])  # (S, n_t)

    chord = (1 - ts) * f_a[:, None] + ts * f_b[:, None]  # (S, n_t)
    gap = f_t - chord
    if fixed_tol is None:
        scale = torch.maximum(torch.maximum(f_a.abs(), f_b.abs()), f_t.abs().amax(dim=1))
        seg_tol = 256 * torch.finfo(points.dtype).eps * (1 + scale)  # (S,)
    else:
        seg_tol = torch.full((n_segments,), fixed_tol, dtype=points.dtype, device=points.device)
    found = (gap > seg_tol[:, None]).nonzero().tolist()

    violations = [
        ConvexityViolation(
            index_a=pairs[s][0], index_b=pairs[s][1], a=points[pairs[s][0]], b=points[pairs[s][1]],
            t=float(ts[k]), lhs=float(f_t[s, k]), rhs=float(chord[s, k]), gap=float(gap[s, k]),
            tol=float(seg_tol[s]))
        for s, k in found
    ]
    return sorted(violations, key=lambda v: v.gap, reverse=True)


# ----------------------------------------------------------------------------------------------
# A network with one hidden layer
# ----------------------------------------------------------------------------------------------
def _n_params(d: int, n_hidden: int, n_classes: int) -> int:
    return n_hidden * d + n_hidden + n_classes * n_hidden + n_classes


def unpack_one_hidden_layer(
    theta: torch.Tensor, d: int, n_hidden: int, n_classes: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split ``theta`` (P,) into ``W1 (H, d), c1 (H,), W2 (K, H), b2 (K,)`` (views, no copy).

    ``P = H d + H + K H + K``; the layout is ``[W1.reshape(-1), c1, W2.reshape(-1), b2]``.

    Example:
        >>> [t.shape for t in unpack_one_hidden_layer(torch.arange(10.0), 1, 2, 2)]
        [torch.Size([2, 1]), torch.Size([2]), torch.Size([2, 2]), torch.Size([2])]
    """
    expected = _n_params(d, n_hidden, n_classes)
    if theta.dim() != 1 or theta.shape[0] != expected:
        raise ValueError(
            f"theta: expected shape (H*d + H + K*H + K,) = ({expected},) for d={d}, H={n_hidden}, "
            f"K={n_classes}, got {tuple(theta.shape)}")
    sizes = [n_hidden * d, n_hidden, n_classes * n_hidden, n_classes]
    w1, c1, w2, b2 = torch.split(theta, sizes)
    return w1.view(n_hidden, d), c1, w2.view(n_classes, n_hidden), b2


def _network_logits(theta: torch.Tensor, X: torch.Tensor, n_hidden: int, n_classes: int,
                    activation: str) -> torch.Tensor:
    """``W2 act(W1 x + c1) + b2`` for every row of X: (N, d) -> (N, K).

    Written with broadcasting and sums rather than matrix products, so that swapping two hidden
    units permutes the terms of a two-term sum, which floating point does exactly: the swapped
    network gives bit-identical logits (for d = 1 and H = 2, as in the counterexample).
    """
    W1, c1, W2, b2 = unpack_one_hidden_layer(theta, X.shape[1], n_hidden, n_classes)
    hidden = _ACTIVATIONS[activation]((X[:, None, :] * W1).sum(dim=-1) + c1)  # (N, H)
    return (hidden[:, None, :] * W2).sum(dim=-1) + b2  # (N, K)


def _check_activation(activation: Any) -> str:
    if not isinstance(activation, str) or activation not in _ACTIVATIONS:
        raise ValueError(f"activation: expected one of {tuple(_ACTIVATIONS)}, got {activation!r}")
    return activation


def one_hidden_layer_ce(
    theta: Any, X: Any, y: Any, *, n_hidden: int, n_classes: int, activation: str = "tanh"
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

    Example:
        >>> ex = hidden_layer_counterexample()
        >>> float(one_hidden_layer_ce(ex.theta_a, ex.X, ex.y, n_hidden=2, n_classes=2)) == ex.loss_a
        True

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    theta = _real_float_tensor(theta, "theta")
    X = _real_float_tensor(X, "X")
    n_hidden = _positive_int(n_hidden, "n_hidden")
    n_classes = _positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes: expected K >= 2, got {n_classes}")
    activation = _check_activation(activation)
    if X.dim() != 2:
        raise ValueError(f"X: expected a 2-D tensor (N, d), got shape {tuple(X.shape)}")
    if X.dtype != theta.dtype or X.device != theta.device:
        raise ValueError(f"X: expected dtype {theta.dtype} on {theta.device} (those of theta), "
                         f"got {X.dtype} on {X.device}")
    logits = _network_logits(theta, X, n_hidden, n_classes, activation)
    return cross_entropy(logits, y)


def swap_hidden_units(theta: Any, d: int, n_hidden: int, n_classes: int, i: int = 0,
                      j: int = 1) -> torch.Tensor:
    """The same network with hidden units ``i`` and ``j`` swapped (a new tensor, (P,)).

    Swaps rows i, j of W1, entries i, j of c1 and columns i, j of W2; the network computes the
    same function, so the loss is unchanged (permutation symmetry).

    Example:
        >>> theta = torch.arange(10.0, dtype=torch.float64)
        >>> swap_hidden_units(theta, 1, 2, 2)[:4].tolist()
        [1.0, 0.0, 3.0, 2.0]

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    theta = _real_float_tensor(theta, "theta")
    for name, k in (("i", i), ("j", j)):
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 0 <= k < n_hidden:
            raise ValueError(f"{name}: expected a hidden-unit index in [0, {n_hidden - 1}], got {k!r}")
    swapped = theta.clone()
    W1, c1, W2, _ = unpack_one_hidden_layer(swapped, d, n_hidden, n_classes)
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

    def loss(self, theta: Any) -> torch.Tensor:
        """The network's mean cross-entropy at ``theta`` (P,): a scalar tensor."""
        return one_hidden_layer_ce(theta, self.X, self.y, n_hidden=self.n_hidden,
                                   n_classes=self.n_classes, activation=self.activation)

    def loss_along(self, ts: Any) -> torch.Tensor:
        """``L((1-t) theta_a + t theta_b)`` for each t in ``ts`` (T,) -> (T,)."""
        ts = _real_float_tensor(ts, "ts").to(self.theta_a)
        if ts.dim() != 1:
            raise ValueError(f"ts: expected a 1-D tensor (T,), got shape {tuple(ts.shape)}")
        return torch.stack([self.loss((1 - t) * self.theta_a + t * self.theta_b) for t in ts])

    def chord_along(self, ts: Any) -> torch.Tensor:
        """The chord ``(1-t) loss_a + t loss_b`` for each t in ``ts`` (T,) -> (T,)."""
        ts = _real_float_tensor(ts, "ts").to(self.theta_a)
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
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
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
