"""Tests of the ⌨ exercise min-ex-step (book/05-minimisation.md): steps larger than 1/beta.

Graded name, as the chapter's solution defines it: ``gaps``, a dict with the keys 1.0 and 1.9 (the step in
units of 1/beta) holding f - f* over the 301 iterates of 300 steps. The tests check what holds for every
correct run: both runs start at the same point (theta = 0), f - f* >= 0 up to rounding (1e-12), the 1/beta
run decreases monotonically (the descent lemma; 1e-13 of slack for rounding), and the larger step ends lower.
"""

NAMES = ("gaps",)

PUBLIC = [
    """
    # gaps holds the two runs, 301 values each (300 steps)
    assert isinstance(gaps, dict) and set(gaps) == {1.0, 1.9}, "gaps: {1.0: ..., 1.9: ...}"
    assert all(len(h_) == 301 for h_ in gaps.values()), [len(h_) for h_ in gaps.values()]
    """,
]

HIDDEN = [
    """
    import numpy as np
    g1, g19 = np.asarray(gaps[1.0]), np.asarray(gaps[1.9])
    assert g1[0] == g19[0] and g1.min() >= -1e-12 and g19.min() >= -1e-12
    assert np.all(np.diff(g1) <= 1e-13), "gradient descent with eta = 1/beta decreases monotonically"
    """,
    """
    import numpy as np
    assert float(np.asarray(gaps[1.9])[-1]) < float(np.asarray(gaps[1.0])[-1])
    """,
]
