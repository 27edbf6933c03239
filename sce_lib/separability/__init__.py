"""The separability of classes under the cross-entropy loss: the book's reconstruction and its measurement.

The theory is **the book's reconstruction** (``../shared/paper-digest.md``) of the class-separability
bound of Das & Chaudhuri (arXiv:1909.06930), whose body could not be read: it holds under the stated
assumptions O1 (per-sample losses Exp(L)), O2 (equal non-target logits), A1 (centred logits) and A3
(independent samples), and is never presented as the paper's theorem; no number here is the paper's.

* :mod:`.theory`: Lemma 1 (margin from loss), Proposition 2 (values of A, E), Proposition 3 (law of Δ);
* :mod:`.bounds`: Theorem 4 (B_C, B_T), the model probability P_model (Monte Carlo and quadrature),
  the valid range of L;
* :mod:`.estimator`: the exact all-pairs P(inter > intra) of a set of features, and its Monte Carlo;
* :mod:`.diagnostics`: the assumption diagnostics O1/O2/A1 and the plug-in probability;
* :mod:`.pairs`: the measured probability with its U-statistic standard error, and the margin-matrix
  reading of M;
* :mod:`.attribution`: the three-way, order-free attribution of P_model − measured to O1, A3, O2.
* :mod:`.collapse`: neural-collapse statistics NC1-NC4 and the class-separation R² (not part of the reconstruction).
"""

from .bounds import (
    BoundResult,
    MonteCarloEstimate,
    bound_closed_form,
    bound_threshold,
    intra_cdf,
    p_model,
    p_model_exact,
    valid_loss_range,
)
from .attribution import FACTORS, coalition_values, exponential_quantile_losses, shapley, top_share
from .collapse import class_separation, collapse_metrics
from .diagnostics import AssumptionDiagnostics, assumption_diagnostics, margin_law_ks, plug_in_probability
from .estimator import SeparationEstimate, pair_distances, sampled_separation_probability, separation_probability
from .pairs import SeparationWithError, margin_vectors, separation_with_stderr
from .theory import (
    inter_value,
    intra_value,
    margin_cdf,
    margin_from_loss,
    margin_mean,
    margin_pdf,
    margin_sf,
    margin_var,
)

__all__ = [
    "margin_from_loss",
    "margin_cdf",
    "margin_sf",
    "margin_pdf",
    "margin_mean",
    "margin_var",
    "intra_value",
    "inter_value",
    "intra_cdf",
    "valid_loss_range",
    "bound_closed_form",
    "bound_threshold",
    "p_model",
    "p_model_exact",
    "BoundResult",
    "MonteCarloEstimate",
    "separation_probability",
    "sampled_separation_probability",
    "pair_distances",
    "SeparationEstimate",
    "margin_law_ks",
    "assumption_diagnostics",
    "AssumptionDiagnostics",
    "plug_in_probability",
    "separation_with_stderr",
    "SeparationWithError",
    "margin_vectors",
    "exponential_quantile_losses",
    "top_share",
    "coalition_values",
    "shapley",
    "FACTORS",
    "collapse_metrics",
    "class_separation",
]
