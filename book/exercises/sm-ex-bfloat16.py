"""Tests of the ⌨ exercise sm-ex-bfloat16 (book/01-softmax.md): the thresholds of exp in bfloat16.

Graded names, as the chapter's solution defines them: ``over`` and ``under`` (the thresholds found with
``exp_thresholds(torch.bfloat16)``) and ``pred_over``, ``pred_under`` (``predicted_thresholds``). The main
text defines the same names for float64 (its last format), so a blank notebook fails every case: float64's
thresholds are not bfloat16 numbers at which bfloat16's exp overflows or underflows.

The tests check the defining property bit by bit (exp of the threshold is inf or 0 in bfloat16, exp of the
neighbouring bfloat16 number is not) and the predictions against the formulas log(max + ulp(max)/2) and
log(smallest subnormal / 2), computed here from the format's parameters (8 exponent bits, 8 significant
bits): max = (2 - 2^-7) 2^127, ulp(max) = 2^120, smallest subnormal 2^-133.
"""

NAMES = ("over", "under", "pred_over", "pred_under")
BLANK_FAILS = "the main text leaves over/under/pred_* at float64's values, which fail every case"

PUBLIC = [
    """
    # over is the smallest bfloat16 number whose exp is inf in bfloat16
    import torch
    x = torch.tensor(over, dtype=torch.bfloat16)
    assert float(x) == over, "over should be a bfloat16 number"
    below = (x.view(torch.int16) - 1).view(torch.bfloat16)
    assert torch.isinf(torch.exp(x)) and not torch.isinf(torch.exp(below)), "not the overflow threshold of bfloat16"
    """,
    """
    # under is the largest bfloat16 number whose exp is 0 in bfloat16
    import torch
    x = torch.tensor(under, dtype=torch.bfloat16)
    assert float(x) == under and under < 0, "under should be a negative bfloat16 number"
    above = (x.view(torch.int16) - 1).view(torch.bfloat16)     # one step towards zero
    assert torch.exp(x) == 0 and torch.exp(above) > 0, "not the underflow threshold of bfloat16"
    """,
]

HIDDEN = [
    """
    import math
    assert abs(pred_over - math.log((2 - 2**-7) * 2.0**127 + 2.0**119)) <= 1e-12 * 89, pred_over
    assert abs(pred_under - math.log(2.0**-134)) <= 1e-12 * 93, pred_under
    """,
    """
    # bfloat16's grid spacing is 0.5 near both thresholds (|z| between 64 and 128)
    import math
    predicted_over, predicted_under = math.log((2 - 2**-7) * 2.0**127 + 2.0**119), math.log(2.0**-134)
    assert predicted_over <= over <= predicted_over + 0.5, (over, predicted_over)
    assert predicted_under - 0.5 <= under <= predicted_under, (under, predicted_under)
    """,
]
