"""Tests of the ⌨ exercise sep-ex-expected-p (book/06-separability.md): the device in the 2018 code.

Graded names, as the chapter's solution defines them: ``ell_mc`` (Monte Carlo draws of the loss,
Exponential with mean L = 0.3), ``p_mc`` = exp(-ell_mc) and ``v`` = p_mc (1 - p_mc). The tests check the
sample (at least 10^4 draws, mean within 5 standard errors of 0.3) and the Monte Carlo estimate of
E[p (1 - p)] against L / ((1 + L)(1 + 2L)) within 5 standard errors: for a correct answer this fails in about
6 of 10^7 draws, so no seed is singled out; an answer off by 1% (the size of a wrong exponent or of a
different L) is more than 5 standard errors away at 10^5 draws.
"""

NAMES = ("ell_mc", "p_mc")

PUBLIC = [
    """
    # p_mc = exp(-ell_mc), one value per draw
    import numpy as np
    assert np.size(ell_mc) >= 10_000 and np.shape(p_mc) == np.shape(ell_mc)
    assert np.allclose(p_mc, np.exp(-np.asarray(ell_mc)), rtol=1e-15, atol=0)
    """,
]

HIDDEN = [
    """
    import math
    import numpy as np
    e = np.asarray(ell_mc)
    assert abs(e.mean() - 0.3) < 5 * e.std() / math.sqrt(e.size), "the losses should be Exp with mean 0.3"
    """,
    """
    import math
    import numpy as np
    w = np.asarray(v)
    assert np.shape(p_mc) == np.shape(ell_mc)  # the student's own draws (the main text has a p_mc of its own)
    assert w.shape == np.shape(p_mc) and np.allclose(w, np.asarray(p_mc) * (1 - np.asarray(p_mc)), rtol=1e-15, atol=0)
    assert abs(w.mean() - 0.3 / (1.3 * 1.6)) < 5 * w.std() / math.sqrt(w.size)
    """,
]
