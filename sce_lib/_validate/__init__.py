"""The validation layer: the only place in sce_lib that raises for bad input.

* :mod:`.convert`: conversion of tensors, numpy arrays, nested lists and scalars (one rule set);
* :mod:`.core`: the ``validation_disabled()`` switch and the
  checks of logits and targets;
* :mod:`.linear`: the arguments of the linear classifier (and its parameter layout);
* :mod:`.scalars`: integers, reals, dtypes and option sets (O(1), always on);
* :mod:`.arrays`: real floating tensors and their finiteness, for the modules outside the softmax core;
* one module per public module that has arguments of its own: :mod:`.convexity`,
  :mod:`.hidden_layer`, :mod:`.symbolic`, :mod:`.data`, :mod:`.reference`, :mod:`.optim`,
  :mod:`.separability`, :mod:`.training`.

Types, shapes, dtypes, devices and options are always checked; only the O(N·K) data scans
(NaN/inf, ranges, row sums) are switched off, by ``validation_disabled()`` and on tensors wrapped
by a ``torch.func`` transform (see :func:`.core.scans_enabled`).

Modules that add public functions add their boundary checks here, in a module of their own.
"""

from .core import (
    check_label_smoothing,
    check_logits,
    check_reduction,
    check_target,
    checks_enabled,
    scans_enabled,
    to_tensor,
    validation_disabled,
)
from .linear import check_direction, check_l2, check_linear
from .scalars import check_bool, check_float_dtype, check_int, check_option, check_real

__all__ = [
    "validation_disabled",
    "checks_enabled",
    "scans_enabled",
    "to_tensor",
    "check_logits",
    "check_target",
    "check_reduction",
    "check_label_smoothing",
    "check_l2",
    "check_linear",
    "check_direction",
    "check_int",
    "check_real",
    "check_float_dtype",
    "check_option",
    "check_bool",
]
