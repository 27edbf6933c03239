"""Tests of the ⌨ exercise ce-ex-unnormalised (book/02-cross-entropy.md): targets that do not sum to one.

Graded names, as the chapter's solution defines them: ``grad`` (SymPy: the gradient of -sum_k y_k log p_k in
z_0, z_1, z_2, with symbols named z_0.. and y_0..), and for the autograd check ``zt`` (the logits), ``yt``
(the target, not summing to one) and ``g`` (autograd's gradient). The SymPy gradient is compared with s p - y
at a point it has not seen (substituted here); the autograd gradient with s p - y at the student's point.
Tolerance 1e-12: every quantity is O(1) in float64 (or exact rationals and exponentials evaluated to 30 digits).
"""

NAMES = ("grad", "zt", "yt")

PUBLIC = [
    """
    # grad has one entry per logit (K = 3); g is autograd's gradient at zt
    assert len(list(grad)) == 3, "grad should have three entries"
    assert g.shape == zt.shape == yt.shape == (3,), (tuple(g.shape), tuple(zt.shape), tuple(yt.shape))
    assert abs(float(yt.sum()) - 1) > 1e-3, "yt should not sum to one"
    """,
]

HIDDEN = [
    """
    import math
    import sympy
    symbols = {str(v): v for v in sympy.Matrix(list(grad)).free_symbols}
    zs = [symbols[f"z_{k}"] for k in range(3)]
    ys = [symbols.get(f"y_{k}") for k in range(3)]
    zv, yv = [0.3, -1.1, 0.7], [2.0, 0.25, 1.5]
    subs = {**dict(zip(zs, zv)), **{y: v for y, v in zip(ys, yv) if y is not None}}
    values = [float(sympy.sympify(e).subs(subs).evalf(30)) for e in list(grad)]
    S = sum(math.exp(v) for v in zv)
    expected = [sum(yv) * math.exp(v) / S - y for v, y in zip(zv, yv)]
    assert all(abs(a - e) < 1e-12 for a, e in zip(values, expected)), (values, expected)
    """,
    """
    import torch
    from sce_lib import softmax
    assert torch.allclose(g, yt.sum() * softmax(zt.detach()) - yt, rtol=0, atol=1e-12), "g = s p - y"
    """,
]
