"""The validation layer: the only place in sce_lib that raises for bad input.

* :mod:`.core`: conversion of tensors/arrays/lists and the checks of logits, targets and the linear
  classifier's arguments (the O(N·K) data scans that ``validation_disabled()`` switches off);
* :mod:`.scalars`: integers, reals, dtypes and option sets (O(1), always on).

Modules that add public functions add their boundary checks here, in a module of their own.
"""

from .core import (
    check_direction,
    check_l2,
    check_label_smoothing,
    check_linear,
    check_logits,
    check_reduction,
    check_target,
    checks_enabled,
    to_tensor,
    validation_disabled,
)
from .scalars import check_bool, check_float_dtype, check_int, check_option, check_real

__all__ = [
    "validation_disabled",
    "checks_enabled",
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
