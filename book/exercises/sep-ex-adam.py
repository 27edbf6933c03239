"""Tests of the ⌨ exercise sep-ex-adam (book/06-separability.md): Adam with two classes.

Graded names, as the chapter's solution defines them: ``W_before`` and ``W_after`` (the MLP's last-layer
weights, 2 x width, before and after training with Adam) and ``adam_run`` (the run, from
``sce_lib.training.train``). What must hold for every correct run: the target loss was reached, W moved by
more than its own norm, and 1^T W did not move beyond float32 rounding (1e-5, as the chapter asserts).
"""

NAMES = ("W_before", "W_after", "adam_run")

PUBLIC = [
    """
    # two rows, one per class
    assert W_before.shape == W_after.shape and W_after.shape[0] == 2, (tuple(W_before.shape), tuple(W_after.shape))
    """,
]

HIDDEN = [
    """
    assert adam_run.reached_all and float((W_after - W_before).norm()) > float(W_before.norm())
    """,
    """
    assert float((W_after.sum(dim=0) - W_before.sum(dim=0)).abs().max()) < 1e-5, "1^T W moved"
    """,
]
