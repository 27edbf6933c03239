"""The data checks of logits and targets, and the switch that turns the data scans off.

Every public function calls one of the ``check_*`` helpers below exactly once, at
its boundary, and then works with trusted tensors.  Error messages name the
argument, what was expected and what was received, e.g.::

    ValueError: target: expected class indices in [0, 9], got max 12

Inputs are first converted by :func:`.convert.to_tensor` (one rule set for every public
function; see :mod:`.convert`).

Two kinds of checks:

* O(1) checks of types, shapes, dtypes, devices and options (``reduction``,
  ``label_smoothing``, ``dim``, K >= 2, an empty batch with ``reduction="mean"``): always on;
* O(N·K) *data scans* (NaN/inf, class-index ranges, probability rows >= 0 summing to 1):
  they read values back (one or two host synchronisations per call on a GPU), so they are
  skipped inside ``validation_disabled()`` (hot loops whose inputs are known to be valid,
  such as benchmarks and optimisers) and on a tensor wrapped by a ``torch.func`` transform
  (``grad``, ``vmap``, ``jvp``, ...), whose values cannot be read there (``.item()`` fails
  under ``vmap``).  Conversion (lists, numpy, integer data to float) always happens.
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
from collections.abc import Iterator
from typing import Any

import torch

from .convert import _describe, holds_bool, to_tensor
from .scalars import check_option, check_real

__all__ = [
    "validation_disabled",
    "checks_enabled",
    "to_tensor",
    "check_logits",
    "check_target",
    "check_reduction",
    "check_label_smoothing",
    "scans_enabled",
]

_CHECKS = contextvars.ContextVar("sce_lib_checks_enabled", default=True)


@contextlib.contextmanager
def validation_disabled() -> Iterator[None]:
    """Skip sce_lib's data scans inside the ``with`` block.

    Only the O(N·K) scans of the values are skipped (NaN/inf, class-index ranges,
    probability rows >= 0 summing to 1; on a GPU each costs a host synchronisation).
    Types, shapes, dtypes, devices and options (``reduction``, ``label_smoothing``,
    ``dim``) are still checked, and conversion still happens.  Use only in hot loops whose
    data was already validated: a NaN logit or an out-of-range target is no longer reported
    and may propagate.  The scans are also skipped, without this block, on tensors wrapped
    by a ``torch.func`` transform (``grad``, ``vmap``, ``jvp``, ...), where values cannot be read.

    Example:
        >>> import torch, sce_lib
        >>> z = torch.zeros(4, 3); y = torch.tensor([0, 1, 2, 0])
        >>> with sce_lib.validation_disabled():
        ...     loss = sce_lib.cross_entropy(z, y)
        >>> round(float(loss), 4)
        1.0986
    """
    token = _CHECKS.set(False)
    try:
        yield
    finally:
        _CHECKS.reset(token)


def checks_enabled() -> bool:
    """True unless inside ``validation_disabled()``."""
    return _CHECKS.get()


_functorch = getattr(torch._C, "_functorch", None)


def _transformed(x: torch.Tensor) -> bool:
    """True for a tensor wrapped by a torch.func transform (or by the legacy vmap)."""
    if _functorch is None:
        return False
    return bool(_functorch.is_functorch_wrapped_tensor(x) or _functorch.is_legacy_batchedtensor(x))


def scans_enabled(x: torch.Tensor) -> bool:
    """True if the values of ``x`` are to be scanned: checks on, and ``x`` not under a transform.

    Example:
        >>> import torch
        >>> scans_enabled(torch.zeros(2))
        True
        >>> torch.func.vmap(lambda v: torch.tensor(scans_enabled(v)))(torch.zeros(2)).tolist()
        [False, False]
    """
    return checks_enabled() and not _transformed(x)


# ----------------------------------------------------------------------------------
# elementary checks
# ----------------------------------------------------------------------------------


def _reject_bool_complex(x: torch.Tensor, name: str) -> None:
    if x.dtype == torch.bool:
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype torch.bool")
    if x.is_complex():
        raise TypeError(f"{name}: expected a real floating-point tensor, got complex dtype {x.dtype}")


def _as_float(x: torch.Tensor, name: str) -> torch.Tensor:
    """Real floating tensors pass; integer tensors become float64; bool/complex are errors."""
    _reject_bool_complex(x, name)
    if not x.is_floating_point():
        return x.to(torch.float64)
    return x


def _same_device(x: torch.Tensor, name: str, ref: torch.Tensor, ref_name: str) -> None:
    if x.device != ref.device:
        raise ValueError(
            f"{name}: expected a tensor on {ref.device} (the device of {ref_name}), got one on {x.device}"
        )


def _first_index(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in mask.nonzero()[0].tolist())


def _check_finite(x: torch.Tensor, name: str, *, allow_neg_inf: bool) -> None:
    """No NaN, no +inf; -inf only when ``allow_neg_inf``."""
    # A finite sum proves every entry finite (one NaN or inf makes the sum NaN or inf);
    # only when it is not (or overflows) do we look entry by entry.
    if not x.is_floating_point() or bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all()):
        return
    expected = "finite values or -inf" if allow_neg_inf else "finite values"
    nan = torch.isnan(x)
    if nan.any():
        raise ValueError(f"{name}: expected {expected}, got NaN at index {_first_index(nan)}")
    pos = x == float("inf")
    if pos.any():
        raise ValueError(f"{name}: expected {expected}, got +inf at index {_first_index(pos)}")
    if not allow_neg_inf:
        raise ValueError(
            f"{name}: expected finite values, got -inf at index {_first_index(x == float('-inf'))}"
        )


def _check_ndim(x: torch.Tensor, name: str, ndim: int, shape_doc: str) -> None:
    if x.dim() != ndim:
        raise ValueError(
            f"{name}: expected a {ndim}-D tensor of shape {shape_doc}, got {x.dim()}-D shape {tuple(x.shape)}"
        )


def _normalise_dim(dim: Any, ndim: int, name: str = "dim") -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(dim).__name__}")
    if not -ndim <= dim < ndim:
        raise ValueError(f"{name}: expected an int in [{-ndim}, {ndim - 1}] for a {ndim}-D input, got {dim}")
    return int(dim) % ndim


# ----------------------------------------------------------------------------------
# checks used by the public functions
# ----------------------------------------------------------------------------------


def check_logits(z: Any, name: str = "z", *, dim: int = -1, ndim: int | None = None) -> tuple[torch.Tensor, int]:
    """Convert and check logits.

    Rules: real floating dtype (integers are converted to float64; bool and complex
    are ``TypeError``); at least 1-D (exactly ``ndim``-D when given); K = size along
    ``dim`` at least 2 (these always); no NaN, no +inf, and -inf allowed (a class with
    probability zero) but not a whole slice of -inf (no probability distribution has all
    zeros): this data scan only when :func:`scans_enabled`.

    Returns:
        (tensor, dim) with ``dim`` normalised to be non-negative.
    """
    z = _as_float(to_tensor(z, name), name)
    if ndim is not None:
        _check_ndim(z, name, ndim, "(N, K)" if ndim == 2 else f"with {ndim} dims")
    if z.dim() == 0:
        raise ValueError(f"{name}: expected a tensor with at least 1 dimension (..., K), got a 0-D scalar")
    d = _normalise_dim(dim, z.dim())
    k = z.shape[d]
    if k < 2:
        raise ValueError(f"{name}: expected K >= 2 classes along dim {d}, got K = {k} (shape {tuple(z.shape)})")
    # One cheap pass: amax propagates NaN, so every slice maximum is finite exactly when
    # there is no NaN, no +inf and no slice made only of -inf.  Diagnose only on failure.
    if scans_enabled(z) and z.numel() and not bool(torch.isfinite(z.amax(dim=d)).all()):
        _check_finite(z, name, allow_neg_inf=True)
        bad = (z == float("-inf")).all(dim=d)
        raise ValueError(
            f"{name}: expected at least one finite logit in every slice along dim {d}, "
            f"got all -inf at index {_first_index(bad)} (softmax would be 0/0)"
        )
    return z, d


def _prob_tolerance(dtype: torch.dtype, k: int) -> float:
    # Summing K numbers in [0, 1] in floating point has error at most about K * eps;
    # allow 8x that (and at least 64 eps) so that rows normalised by the user pass.
    return 8 * max(k, 8) * torch.finfo(dtype).eps


def check_target(target: Any, logits: torch.Tensor, name: str = "target") -> torch.Tensor:
    """Convert and check a target for logits of shape (N, K).

    Accepted forms:
        * class indices, shape (N,), integer dtype (or floats with integral values),
          each in [0, K-1]; returned as int64;
        * probability rows, shape (N, K), floating, entries >= 0, each row summing
          to 1 within ``8 K eps`` (eps of the target's dtype); returned in the logits' dtype.

    Shapes, dtypes and the device are always checked; the values (ranges, integrality,
    NaN/inf, signs, row sums) only when :func:`scans_enabled`.

    Raises:
        TypeError: bool/complex dtype, integer probability rows.
        ValueError: wrong shape, batch size differing from the logits', out-of-range
            or non-integral class indices, negative entries, rows not summing to 1,
            NaN/inf, different device.
    """
    n, k = logits.shape
    target = to_tensor(target, name, float_dtype=logits.dtype)
    _reject_bool_complex(target, name)
    _same_device(target, name, logits, "logits")
    scan = scans_enabled(target)
    if target.dim() == 1:
        if target.shape[0] != n:
            raise ValueError(
                f"{name}: expected class indices of shape (N,) = ({n},) matching logits' batch size, "
                f"got shape {tuple(target.shape)}"
            )
        if scan:
            _scan_indices(target, name, k)
        return target if target.dtype == torch.int64 else target.to(torch.int64)
    if target.dim() == 2:
        if tuple(target.shape) != (n, k):
            raise ValueError(
                f"{name}: expected probability rows of shape (N, K) = ({n}, {k}) matching the logits, "
                f"got shape {tuple(target.shape)}"
            )
        if not target.is_floating_point():
            raise TypeError(
                f"{name}: expected probability rows with a floating dtype, got {target.dtype} "
                f"(pass class indices as a 1-D tensor of shape (N,))"
            )
        if scan:
            _scan_probabilities(target, name)
        return target if target.dtype == logits.dtype else target.to(logits.dtype)
    raise ValueError(
        f"{name}: expected class indices of shape (N,) or probability rows of shape (N, K), "
        f"got a {target.dim()}-D tensor of shape {tuple(target.shape)}"
    )


def _scan_indices(target: torch.Tensor, name: str, k: int) -> None:
    """Class indices (N,): integral values in [0, K-1]."""
    if target.is_floating_point():
        _check_finite(target, name, allow_neg_inf=False)
        frac = target != torch.round(target)
        if frac.any():
            i = _first_index(frac)[0]
            raise ValueError(
                f"{name}: expected integer class indices, got non-integral value {float(target[i])} at index {i}"
            )
    if target.numel():
        lo, hi = (int(v) for v in torch.aminmax(target))
        if lo < 0 or hi > k - 1:
            raise ValueError(f"{name}: expected class indices in [0, {k - 1}], got min {lo} and max {hi}")


def _scan_probabilities(target: torch.Tensor, name: str) -> None:
    """Probability rows (N, K): finite, >= 0, each summing to 1 within 8 K eps."""
    _check_finite(target, name, allow_neg_inf=False)
    neg = target < 0
    if neg.any():
        i = _first_index(neg)
        raise ValueError(f"{name}: expected probabilities >= 0, got {float(target[i])} at index {i}")
    if target.shape[0]:
        tol = _prob_tolerance(target.dtype, target.shape[1])
        dev = (target.sum(dim=1, dtype=torch.float64) - 1).abs()
        if (dev > tol).any():
            i = int(dev.argmax())
            raise ValueError(
                f"{name}: expected rows summing to 1 (tolerance {tol:.1e}), got row {i} "
                f"summing to {float(target[i].sum(dtype=torch.float64))!r}"
            )


def check_reduction(reduction: Any, n: int) -> str:
    """One of "mean", "sum", "none"; "mean" needs at least one sample (the mean of no losses is 0/0).

    Example:
        >>> check_reduction("sum", 0)
        'sum'
    """
    reduction = check_option(reduction, "reduction", ("mean", "sum", "none"))
    if reduction == "mean" and n == 0:
        raise ValueError(
            "logits: expected at least one sample (N >= 1) for reduction='mean', got N = 0 "
            "(the mean of no losses is undefined; use reduction='sum' or 'none')"
        )
    return reduction


def check_label_smoothing(eps: Any) -> float:
    """A real number in [0, 1].

    Example:
        >>> check_label_smoothing(0.1)
        0.1
    """
    return check_real(eps, "label_smoothing", minimum=0.0, maximum=1.0)
