"""Tests of the ⌨ exercise ce-ex-distillation (book/02-cross-entropy.md): distillation at high temperature.

Graded names, as the chapter's solution defines them (after its loop over temperatures, at the last, highest
one): ``T`` (the temperature), ``z`` and ``t`` (student and teacher logits, zero mean), ``q_T``
(softmax(t / T)) and ``g`` (the gradient of T^2 CE(q_T, softmax(z / T)) in z, from autograd), ``K``.
Tolerances: g = T (p_T - q_T) to 1e-10 (the two sides are O(1) but are T times a difference of probabilities
rounded to 1e-16, so up to about T 1e-16 apart); the gap to (z - t)/K below 1e-3 at T >= 100, as the
chapter asserts (the first-order error is O(|z|^2 / T)).
"""

NAMES = ("q_T", "T")

PUBLIC = [
    """
    # g has the shape of z, and the logits have zero mean
    import torch
    assert g.shape == z.shape == t.shape == q_T.shape, "g, z, t and q_T should have the same shape"
    assert abs(float(z.mean())) < 1e-12 and abs(float(t.mean())) < 1e-12, "centre the logits"
    """,
]

HIDDEN = [
    """
    import torch
    from sce_lib import softmax
    assert torch.allclose(q_T, softmax(t / T), rtol=0, atol=1e-14)
    assert torch.allclose(g, T * (softmax(z / T) - softmax(t / T)), rtol=0, atol=1e-10), "g = T (p_T - q_T)"
    """,
    """
    assert T >= 100 and float((g - (z - t) / K).abs().max()) < 1e-3, "at high T, g approaches (z - t)/K"
    """,
]
