"""Tests of the ⌨ exercise fd-ex-temperature-large (book/02b-foundations.md): temperature scaling and
calibration in the large.

Graded names, as the chapter's solution defines them: ``Z_mm`` (the logits of the fit ``fit_mm`` on the
training split ``X_tr``) and ``gaps`` (a dict: scale s -> max_k |mean_n softmax(s z_n)_k - mean_n y_{n,k}|,
with s = 1 and at least two other values). The gaps are recomputed here; tolerance 1e-12 (means of
probabilities in float64). At s = 1 the gap is at rounding level (<= 1e-8, the chapter's bound), at every
other s it exceeds 1e-6 (the chapter measures it a thousand times larger than at s = 1).
"""

NAMES = ("Z_mm",)

PUBLIC = [
    """
    # gaps maps each scale s to the largest gap; s = 1 is one of them
    assert isinstance(gaps, dict) and 1.0 in gaps and len(gaps) >= 3, "gaps: {s: gap} with s = 1 and two others"
    assert Z_mm.shape == Y_tr.shape, "one row of logits per training sample"
    """,
]

HIDDEN = [
    """
    import torch
    from sce_lib import softmax
    assert torch.allclose(Z_mm, X_tr @ fit_mm.W.T + fit_mm.b, rtol=0, atol=1e-12)
    freq = Y_tr.mean(dim=0)
    for s_, gap_ in gaps.items():
        assert abs(gap_ - float((softmax(s_ * Z_mm).mean(dim=0) - freq).abs().max())) < 1e-12, s_
    """,
    """
    assert gaps[1.0] <= 1e-8 and all(g_ > 1e-6 for s_, g_ in gaps.items() if s_ != 1.0) and len(Z_mm) > 0
    """,
]
