"""sce_lib: softmax cross-entropy and its derivatives, exact and validated, in PyTorch.

The library of the book "Softmax Cross-Entropy, Executed".  Inputs may be torch
tensors, numpy arrays or nested lists; outputs are tensors on the input's device.
``sce_lib.symbolic`` (SymPy) is imported separately: ``from sce_lib import symbolic``.
"""

from ._validate import validation_disabled
from ._types import TensorLike  # noqa: F401  (the type of array-like arguments, for annotations)
from .convexity import convexity_violations, is_psd
from .derivatives import ce_gradient, ce_hessian, softmax_jacobian
from .device import default_device
from .functional import cross_entropy, log_softmax, logsumexp, softmax
from .hidden_layer import hidden_layer_counterexample
from .linear import (
    linear_ce_gradient,
    linear_ce_hessian,
    linear_ce_hvp,
    linear_ce_loss,
    pack_theta,
    unpack_theta,
)
from . import separability as _separability
from .separability import (
    FACTORS,
    SeparationWithError,
    coalition_values,
    exponential_quantile_losses,
    margin_vectors,
    separation_with_stderr,
    shapley,
    top_share,
    AssumptionDiagnostics,
    BoundResult,
    MonteCarloEstimate,
    SeparationEstimate,
    bound_closed_form,
    bound_threshold,
    class_separation,
    collapse_metrics,
    inter_value,
    intra_cdf,
    intra_value,
    assumption_diagnostics,
    margin_cdf,
    margin_from_loss,
    margin_law_ks,
    margin_mean,
    margin_pdf,
    margin_sf,
    margin_var,
    p_model,
    p_model_exact,
    plug_in_probability,
    sampled_separation_probability,
    separation_probability,
    valid_loss_range,
)

# last: sce_lib.optim uses the names above
from .optim import ConvergenceWarning, FitResult, fit_softmax_regression  # noqa: E402

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
    "pack_theta",
    "unpack_theta",
    "default_device",
    "validation_disabled",
    "is_psd",
    "convexity_violations",
    "hidden_layer_counterexample",
    "fit_softmax_regression",
    "FitResult",
    "ConvergenceWarning",
    # the separability names, as sce_lib.separability lists them (pair_distances stays in the subpackage)
    *(name for name in _separability.__all__ if name != "pair_distances"),
]
