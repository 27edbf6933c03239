"""Neural collapse (Papyan, Han & Donoho 2020) and class separation (Kornblith et al. 2021) of a feature set.

Two summaries of how the penultimate features ``h`` of a trained network are arranged by class, both
computed exactly in float64 and in time linear in N:

* :func:`collapse_metrics`: NC1 (within-class variability against between-class variability), NC2
  (the class means form a simplex equiangular tight frame: equal norms, equal angles with cosine
  -1/(K-1)), NC3 (the last layer's rows align with the centred class means) and NC4 (the network's
  decision equals the nearest class mean);
* :func:`class_separation`: the R² of cosine distances, 1 - (mean within-class distance) / (mean
  distance over all pairs), with every class weighted equally.
"""

from __future__ import annotations

from typing import Any

import torch

from .._validate.collapse import check_collapse_inputs, check_separation_inputs

__all__ = ["collapse_metrics", "class_separation"]

_BLOCK = 2048  # rows per block in class_separation (few ops: robust under CPU contention; small temporaries)


def _class_means(h: torch.Tensor, y: torch.Tensor, K: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(K, d) class means and (K,) class sizes (every class is present: checked at the boundary)."""
    counts = torch.bincount(y, minlength=K).to(h.dtype)
    sums = torch.zeros(K, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, y, h)
    return sums / counts[:, None], counts


def collapse_metrics(h: Any, y: Any, W: Any = None, b: Any = None) -> dict[str, float]:
    r"""The four neural-collapse statistics of features ``h`` with labels ``y`` (and a last layer ``W``, ``b``).

    With class means :math:`\mu_c`, the global mean :math:`\mu_G` (the mean of all rows of h, so an
    unbalanced class set weighs each sample equally), :math:`\tilde M` the (K, d) matrix of rows
    :math:`\mu_c - \mu_G`, :math:`\Sigma_W = \frac1N\sum_i (h_i - \mu_{y_i})(h_i - \mu_{y_i})^\top` and
    :math:`\Sigma_B = \frac1K \tilde M^\top \tilde M`:

    * ``nc1`` = :math:`\frac1K \operatorname{tr}(\Sigma_W \Sigma_B^\dagger)` (0 when every sample sits at
      its class mean);
    * ``nc2_equinorm`` = std_c ‖μ_c − μ_G‖ / mean_c ‖μ_c − μ_G‖ (population std; 0 for equal norms);
    * ``nc2_equiangular`` = mean over ordered c ≠ c′ of |cos(μ_c − μ_G, μ_c′ − μ_G) + 1/(K − 1)|
      (0 for a simplex);
    * with ``W``: ``nc3`` = ‖W/‖W‖_F − M̃/‖M̃‖_F‖_F (0 when the rows of W are the centred means, scaled);
    * with ``W`` and ``b``: ``nc4`` = the fraction of samples whose decision argmax_c (W h + b)_c differs
      from the nearest class mean argmin_c ‖h − μ_c‖ (ties go to the lowest index in both).

    The pseudo-inverse is taken through the singular values of M̃ (rank at most K − 1, since
    Σ_c n_c(μ_c − μ_G) = 0): directions with singular value at most max(K, d) · eps · s_max are
    dropped, as ``numpy.linalg.pinv`` does. Then tr(Σ_W Σ_B^†) = K Σ_j v_jᵀ Σ_W v_j / s_j², and
    v_jᵀ Σ_W v_j is the mean square of the within-class deviations projected on v_j: O(N d K) time,
    no d × d matrix. Distances to the means are summed coordinate by coordinate (no ‖h‖² − 2hμ + ‖μ‖²
    cancellation). Everything in float64, on the device of ``h``.

    Args:
        h: (N, d) finite features. y: (N,) integer labels; every class 0, ..., K-1 present, K >= 2
            (K = W.shape[0] when W is given, else max(y) + 1).
        W: optional (K, d) last-layer weight. b: optional (K,) bias (requires W).

    Returns:
        A dict with float values under the keys ``nc1``, ``nc2_equinorm``, ``nc2_equiangular``, and
        ``nc3`` (with W), ``nc4`` (with W and b).

    Raises:
        ValueError: a class is absent, or all class means coincide (Σ_B = 0: NC1 undefined).

    Example:
        >>> etf = torch.tensor([[1.0, 0.0], [-0.5, 3 ** 0.5 / 2], [-0.5, -(3 ** 0.5) / 2]], dtype=torch.float64)  # simplex
        >>> m = collapse_metrics(etf.repeat(2, 1), torch.tensor([0, 1, 2, 0, 1, 2]), W=2 * etf, b=torch.zeros(3))
        >>> {k: round(v, 12) for k, v in m.items()}
        {'nc1': 0.0, 'nc2_equinorm': 0.0, 'nc2_equiangular': 0.0, 'nc3': 0.0, 'nc4': 0.0}

    Derived in: book/06b-what-decides-separability.md, §Measuring collapse and separation.
    """
    h, y, W, b, K = check_collapse_inputs(h, y, W, b)
    h = h.to(torch.float64)
    mu, _ = _class_means(h, y, K)
    mu_G = h.mean(dim=0)
    M = mu - mu_G                                               # (K, d), rows μ_c − μ_G
    N, d = h.shape
    U, S, Vh = torch.linalg.svd(M, full_matrices=False)          # M = U diag(S) Vh
    if float(S.max()) == 0.0:
        raise ValueError("h: expected class means that differ (Σ_B ≠ 0), got all class means equal; NC1 is undefined")
    keep = S > max(K, d) * torch.finfo(torch.float64).eps * S.max()
    dev = h - mu[y]                                             # within-class deviations (N, d)
    proj = dev @ Vh[keep].T                                     # (N, r)
    within = (proj ** 2).mean(dim=0)                            # v_jᵀ Σ_W v_j
    nc1 = float((within / S[keep] ** 2).sum())                  # (1/K) tr(Σ_W Σ_B^†), Σ_B^† = K V S^-2 Vᵀ
    norms = M.norm(dim=1)
    equinorm = float(norms.std(correction=0) / norms.mean())
    unit = M / norms[:, None].clamp_min(torch.finfo(torch.float64).tiny)
    cos = unit @ unit.T
    off = ~torch.eye(K, dtype=torch.bool, device=h.device)
    equiangular = float((cos[off] + 1.0 / (K - 1)).abs().mean())
    out = {"nc1": nc1, "nc2_equinorm": equinorm, "nc2_equiangular": equiangular}
    if W is not None:
        W = W.to(torch.float64)
        out["nc3"] = float(torch.linalg.norm(W / torch.linalg.norm(W) - M / torch.linalg.norm(M)))
        if b is not None:
            decision = (h @ W.T + b.to(torch.float64)).argmax(dim=1)
            nearest = torch.cdist(h, mu, compute_mode="donot_use_mm_for_euclid_dist").argmin(dim=1)
            out["nc4"] = float((decision != nearest).to(torch.float64).mean())
    return out


def class_separation(h: Any, y: Any) -> float:
    r"""Class separation R² of Kornblith, Chen, Lee & Norouzi (2021), with cosine distance, in O(N d).

    .. math:: R^2 = 1 - \bar d_{\rm within} / \bar d_{\rm total},\quad
              \bar d_{\rm within} = \frac1K\sum_k \operatorname*{mean}_{m,n\in k}(1 - \cos(h_m, h_n)),\quad
              \bar d_{\rm total} = \frac1{K^2}\sum_{j,k} \operatorname*{mean}_{m\in j,\,n\in k}(1 - \cos(h_m, h_n)),

    pairs m = n included, K the number of classes present, every class weighted equally. No pair is
    formed: with unit vectors u_i = h_i/‖h_i‖ and class means of unit vectors m_k, the mean cosine
    between classes j and k is m_j · m_k, so mean_{m,n∈k}(1 − cos) = 1 − ‖m_k‖² =
    mean_{i∈k}‖u_i − m_k‖² (computed in the second form, free of cancellation) and
    d̄_total = d̄_within + (1/K) Σ_k ‖m_k − m̄‖² with m̄ = (1/K) Σ_k m_k. Hence R² = B / (W + B),
    in [0, 1]: 1 when each class points in one direction, 0 when the classes' mean directions agree.
    Float64, on the device of ``h``.

    Args:
        h: (N, d) finite features, no zero row (its cosine is undefined). y: (N,) integer labels, at
            least two classes present.

    Returns:
        R², a float in [0, 1].

    Raises:
        ValueError: a zero row, fewer than two classes, or all rows pointing one way (0/0).

    Example:
        >>> class_separation(torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]), torch.tensor([0, 0, 1, 1]))
        1.0

    Derived in: book/06b-what-decides-separability.md, §Measuring collapse and separation.
    """
    h, y = check_separation_inputs(h, y)
    h = h.to(torch.float64)
    _, y = torch.unique(y, return_inverse=True)                 # classes present, relabelled 0..K-1
    K, (N, d) = int(y.max()) + 1, h.shape
    norms = torch.linalg.vector_norm(h, dim=1)
    counts = torch.bincount(y, minlength=K).to(torch.float64)
    # two passes over row blocks (small temporaries: measured 3-5x faster than whole-array ops at N = 60 000)
    sums = torch.zeros(K, d, dtype=torch.float64, device=h.device)
    for s in range(0, N, _BLOCK):
        sums.index_add_(0, y[s:s + _BLOCK], h[s:s + _BLOCK] / norms[s:s + _BLOCK, None])
    m = sums / counts[:, None]                                  # (K, d) means of unit vectors
    sq = torch.zeros(K, dtype=torch.float64, device=h.device)
    for s in range(0, N, _BLOCK):
        dev = h[s:s + _BLOCK] / norms[s:s + _BLOCK, None]
        dev.sub_(m[y[s:s + _BLOCK]])
        sq.index_add_(0, y[s:s + _BLOCK], torch.einsum("ij,ij->i", dev, dev))
    d_within = float((sq / counts).mean())                      # (1/K) Σ_k mean_{i∈k} ‖u_i − m_k‖²
    between = float(((m - m.mean(dim=0)) ** 2).sum(dim=1).mean())
    total = d_within + between
    if total == 0.0:
        raise ValueError("h: expected rows pointing in at least two directions, got all rows parallel; R² is 0/0")
    return between / total
