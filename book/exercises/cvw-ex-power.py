"""Tests of the ⌨ exercise cvw-ex-power (book/04-convexity-weights.md): the largest eigenvalue without the matrix.

Graded names, as the chapter's solution defines them: ``rayleigh`` (the power-iteration estimate of
lambda_max of the Hessian at theta_fit) and ``v`` (the final iterate). Compared with the dense eigenvalue of
the main text's ``spectra["theta_fit"]`` to a relative 1e-6 (the chapter's run gets there in 200 iterations),
with the bound beta(0), and through one more Hessian-vector product: the Rayleigh quotient of ``v`` itself
equals the estimate to a relative 1e-6.
"""

NAMES = ("rayleigh",)

PUBLIC = [
    """
    # the estimate is a positive number below the bound beta
    assert 0 < rayleigh <= beta(0.0), rayleigh
    """,
]

HIDDEN = [
    """
    top = float(spectra["theta_fit"][-1])
    assert abs(rayleigh - top) < 1e-6 * top, (rayleigh, top)
    """,
    """
    hv_ = linear_ce_hvp(W_fit, b_fit, X, y, v)
    q = float(v @ hv_) / float(v @ v)
    assert abs(q - rayleigh) < 1e-6 * rayleigh, (q, rayleigh)
    """,
]
