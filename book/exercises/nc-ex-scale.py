"""Tests of the ⌨ exercise nc-ex-scale (book/06b-what-decides-separability.md): the balance point of weight decay.

Graded names, as the chapter's solution defines them: ``t_wd`` and ``t_nowd``, the grid minimisers t* of
L(t) + (λ/2) t² ‖(W, b)‖² for the network trained with weight decay and the one trained without. The
public case checks that they are numbers on the exercise's scale; the hidden case checks what the
exercise asks to conclude: the network trained with weight decay sits near its balance point (t* within
[0.8, 1.25], the grid's resolution and the end of a finite run allowing that much) and the one trained
without sits beyond it (its t* is smaller). The solution asserts the same on every seed it runs.
"""

NAMES = ("t_wd", "t_nowd")

PUBLIC = [
    """
    import math
    assert all(isinstance(float(t), float) and math.isfinite(float(t)) and float(t) > 0 for t in (t_wd, t_nowd))
    """,
]

HIDDEN = [
    """
    assert 0.8 < float(t_wd) < 1.25, "with weight decay the last layer should sit near t* = 1"
    assert float(t_nowd) < float(t_wd), "without weight decay the logits grew beyond the balance point"
    """,
]
