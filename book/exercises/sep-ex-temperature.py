"""Tests of the ⌨ exercise sep-ex-temperature (book/06-separability.md): the temperature that makes the bound tight.

Graded names, as the chapter's solution defines them: ``z_last`` (the CNN's training logits at its last
checkpoint), ``y_tr``, ``P_hat`` (its measured probability) and ``tau_star`` (the temperature at which
B_C(L(tau)) = P_hat). The loss at tau_star is recomputed here from z_last with ``cross_entropy`` and the
bound with ``bound_closed_form`` (C = 10); the equation must hold to 1e-8 (the chapter's root finder
reaches it with xtol 1e-10), and tau_star must lie in the bracket [1, 3] the chapter justifies.
"""

NAMES = ("tau_star", "z_last", "P_hat")

PUBLIC = [
    """
    # tau_star is a temperature in the bracket [1, 3]
    assert 1.0 <= float(tau_star) <= 3.0, tau_star
    """,
]

HIDDEN = [
    """
    L_star = float(cross_entropy(z_last / tau_star, y_tr))
    assert abs(bound_closed_form(L_star, 10) - P_hat) < 1e-8, (L_star, P_hat)
    """,
    """
    assert P_hat == summary["MNIST-1D, CNN"]["last"]["P_train"] and z_last.shape == (len(y_tr), 10)
    """,
]
