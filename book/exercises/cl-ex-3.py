"""Tests of the ⌨ exercise cl-ex-3 (book/07-claims.md): the float16 underflow of the naive softmax.

Graded names, as the chapter's solution defines them: ``last_zero16`` (the largest float16 number a with
naive_softmax((a, a, a)) NaN, i.e. exp(a) = 0 in float16) and ``first_pos16`` (the next float16 number up).
The tests check the defining property in float16 itself and the closeness to -25 log 2 (0.02: the float16
grid spacing there is 2^-6 = 0.016).
"""

NAMES = ("last_zero16", "first_pos16")

PUBLIC = [
    """
    # the naive softmax of (a, a, a) is NaN at last_zero16, not at the next float16 number
    import torch
    a16 = torch.full((3,), last_zero16, dtype=torch.float16)
    assert float(a16[0]) == last_zero16, "last_zero16 should be a float16 number"
    assert bool(torch.isnan(naive_softmax(a16)).all()), "naive_softmax is not NaN there"
    """,
]

HIDDEN = [
    """
    import torch
    x = torch.tensor(last_zero16, dtype=torch.float16)
    up = (x.view(torch.int16) - 1).view(torch.float16)            # one step towards zero
    assert float(up) == first_pos16 and torch.exp(x) == 0 and torch.exp(up) > 0
    assert not bool(torch.isnan(naive_softmax(torch.full((3,), first_pos16, dtype=torch.float16))).any())
    """,
    """
    import math
    assert abs(last_zero16 + 25 * math.log(2)) < 0.02, last_zero16
    """,
]
