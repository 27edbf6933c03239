"""Numerical convexity tools: a PSD test and a chord test.

* :func:`is_psd` decides whether a symmetric matrix (a Hessian) is positive semidefinite, with a
  tolerance scaled to the dtype and the matrix norm.
* :func:`convexity_violations` looks for points where a function lies *above* its chord,
  ``f((1-t) a + t b) > (1-t) f(a) + t f(b)``, along random segments between given points. Finding
  one disproves convexity; finding none is evidence, not proof.

The one-hidden-layer network and its non-convexity counterexample live in
:mod:`sce_lib.hidden_layer` (re-exported here for the old import path).

Validation (:mod:`sce_lib._validate.convexity`) scans the matrix or the points for NaN/inf: on a
GPU that is one host synchronisation per call; ``validation_disabled()`` skips it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import torch

from ._types import TensorLike
from ._validate.convexity import check_chord_test, check_scalar_output, check_square_matrix, check_tolerance
from .hidden_layer import (
    HiddenLayerCounterexample,
    hidden_layer_counterexample,
    one_hidden_layer_ce,
    swap_hidden_units,
    unpack_one_hidden_layer,
)

__all__ = [
    "is_psd",
    "default_psd_tolerance",
    "ConvexityViolation",
    "convexity_violations",
]

# Moved to sce_lib.hidden_layer; importable from here as before.
_MOVED = (HiddenLayerCounterexample, hidden_layer_counterexample, one_hidden_layer_ce, swap_hidden_units,
          unpack_one_hidden_layer)

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


def is_psd(H: TensorLike, tol: float | None = None) -> bool:
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
        TypeError: bool or complex ``H`` (also a nested list holding bools); ``tol`` not a real
            number.
        ValueError: ``H`` not 2-D square, empty, or not finite; ``tol`` negative or not finite.

    Validation scans ``H`` for NaN/inf and the verdict is read back as a Python bool: on a GPU each
    costs one host synchronisation.

    Example:
        >>> is_psd([[1.0, -1.0], [-1.0, 1.0]]), is_psd([[0.0, 1.0], [1.0, 0.0]])
        (True, False)

    Derived in: book/03-convexity-logits.md, §Convexity: two proofs.
    """
    H = check_square_matrix(H, "H")
    tolerance = check_tolerance(tol)
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


def convexity_violations(
    f: Callable[[torch.Tensor], torch.Tensor | float],
    points: TensorLike,
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

    Every value of ``f`` is read back to check it is finite: on a GPU, one host synchronisation
    per call of ``f``.

    Example:
        >>> pts = torch.linspace(-2, 2, 5, dtype=torch.float64)[:, None]
        >>> convexity_violations(lambda x: (x ** 2).sum(), pts)
        []
        >>> len(convexity_violations(lambda x: -(x ** 2).sum(), pts)) > 0
        True

    Derived in: book/04-convexity-weights.md, §Where convexity ends.
    """
    f, points, n_segments, n_t, generator, fixed_tol = check_chord_test(f, points, n_segments, n_t, generator, tol)
    if generator is None:
        generator = torch.Generator().manual_seed(0)

    m = points.shape[0]
    first = torch.randint(m, (n_segments,), generator=generator, device=generator.device).tolist()
    offset = torch.randint(m - 1, (n_segments,), generator=generator, device=generator.device).tolist()
    pairs = [(i, j + (j >= i)) for i, j in zip(first, offset)]  # j != i, uniform over the others
    ts = torch.arange(1, n_t + 1, dtype=points.dtype, device=points.device) / (n_t + 1)

    end_values: dict[int, torch.Tensor] = {}
    for index in sorted({k for pair in pairs for k in pair}):
        end_values[index] = check_scalar_output(f(points[index]), points[index])
    f_a = torch.stack([end_values[i] for i, _ in pairs])  # (S,)
    f_b = torch.stack([end_values[j] for _, j in pairs])  # (S,)
    f_t = torch.stack([
        torch.stack([check_scalar_output(f(x), x) for x in (1 - ts[:, None]) * points[i] + ts[:, None] * points[j]])
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
