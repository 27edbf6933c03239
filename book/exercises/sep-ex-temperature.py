"""Tests of the ⌨ exercise sep-ex-temperature (book/06-separability.md): the temperature that makes the bound tight.

Graded names, as the chapter's solution defines them: ``z_last`` (the first seed's MNIST-1D CNN's training
logits at its last checkpoint), ``y_tr``, ``P_hat`` (its measured probability) and ``tau_star`` (the
temperature at which B_T(L(tau)) = P_hat). The loss at tau_star is recomputed here from z_last with
``cross_entropy`` and the bound with ``bound_threshold`` (C = 10); the equation must hold to 1e-6 (the
chapter's root finder reaches 1e-8 in tau, and B_T's slope in tau is of order one), and tau_star must lie
in the bracket [1, 10] the chapter searches.
"""

NAMES = ("tau_star", "z_last", "P_hat")

PUBLIC = [
    """
    # tau_star is a temperature in the bracket [1, 10]
    assert 1.0 <= float(tau_star) <= 10.0, tau_star
    """,
]

HIDDEN = [
    """
    L_star = float(cross_entropy(z_last / tau_star, y_tr))
    assert abs(bound_threshold(L_star, 10) - P_hat) < 1e-6, (L_star, P_hat)
    """,
    """
    assert 0.0 < float(P_hat) < 1.0 and tuple(z_last.shape) == (len(y_tr), 10)
    """,
]
