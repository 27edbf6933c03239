"""sce_lib: softmax cross-entropy and its derivatives, exact and validated, in PyTorch.

The library of the book "Softmax Cross-Entropy, Executed".  Inputs may be torch
tensors, numpy arrays or nested lists; outputs are tensors on the input's device.
``sce_lib.symbolic`` (SymPy) is imported separately: ``from sce_lib import symbolic``.
"""

from ._validate import validation_disabled
from .convexity import convexity_violations, hidden_layer_counterexample, is_psd
from .derivatives import (
    ce_gradient,
    ce_hessian,
    linear_ce_gradient,
    linear_ce_hessian,
    linear_ce_hvp,
    linear_ce_loss,
    softmax_jacobian,
)
from .device import default_device
from .functional import cross_entropy, log_softmax, logsumexp, softmax

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "cross_entropy",
    "softmax_jacobian",
    "ce_gradient",
    "ce_hessian",
    "linear_ce_loss",
    "linear_ce_gradient",
    "linear_ce_hessian",
    "linear_ce_hvp",
    "default_device",
    "validation_disabled",
    "is_psd",
    "convexity_violations",
    "hidden_layer_counterexample",
]
