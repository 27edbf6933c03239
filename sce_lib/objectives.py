"""The training objectives :func:`sce_lib.training.train` offers, as functions of a batch of logits.

The cross-entropy is the book's loss; the four alternatives are those compared in the chapter on what
decides class separability (label smoothing, squared error on one-hot targets, a one-vs-rest sigmoid,
a logit penalty). :func:`training_loss` is re-exported by :mod:`sce_lib.training`.
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate.training import check_loss_choice

__all__ = ["training_loss"]


def training_loss(logits: torch.Tensor, y: torch.Tensor, loss: str = "cross_entropy",
                  loss_param: float | None = None) -> torch.Tensor:
    r"""The mean training objective of a batch, for each choice of loss :func:`train` offers.

    With logits z (B, K), targets y (B,), the one-hot e_y and p = softmax(z), the per-sample objective is

    * ``"cross_entropy"``: -log p_y;
    * ``"label_smoothing"`` (ε = ``loss_param``, default 0.1): the cross-entropy against the target
      (1 - ε) e_y + ε 1/K, i.e. (1 - ε)(-log p_y) + ε (1/K) Σ_k (-log p_k) (PyTorch's ``label_smoothing``);
    * ``"squared_error"``: ½ ‖z - e_y‖² (summed over classes; its gradient z - e_y mirrors the
      cross-entropy's p - e_y);
    * ``"sigmoid"``: one-vs-rest, Σ_k [softplus(z_k) - [k = y] z_k] (a binary cross-entropy per class, summed);
    * ``"logit_penalty"`` (ρ = ``loss_param``, default 1e-3): -log p_y + ρ ‖z‖².

    Returns the mean over the batch (a 0-d tensor that autograd can differentiate).

    Args:
        logits: (B, K) logits. y: (B,) class indices. loss: one of the five names. loss_param: ε or ρ (None
            for the default; must be None for the losses without a parameter).

    Returns:
        0-d tensor.

    Example:
        >>> z = torch.tensor([[2.0, 0.0, 0.0]]); y = torch.tensor([0])
        >>> float(training_loss(z, y, "squared_error")), round(float(training_loss(z, y, "logit_penalty", 0.5)), 4)
        (0.5, 2.2395)

    Derived in: book/06b-what-decides-separability.md, §The loss decides.
    """
    loss, loss_param = check_loss_choice(loss, loss_param)
    return _objective(logits, y, loss, loss_param)


def _objective(z: torch.Tensor, y: torch.Tensor, loss: str, param: float | None) -> torch.Tensor:
    if loss == "cross_entropy":
        return nn.functional.cross_entropy(z, y)
    if loss == "label_smoothing":
        return nn.functional.cross_entropy(z, y, label_smoothing=param)
    if loss == "logit_penalty":
        return nn.functional.cross_entropy(z, y) + param * (z ** 2).sum(dim=1).mean()
    onehot = nn.functional.one_hot(y, z.shape[1]).to(z.dtype)
    if loss == "squared_error":
        return 0.5 * ((z - onehot) ** 2).sum(dim=1).mean()
    return nn.functional.binary_cross_entropy_with_logits(z, onehot, reduction="none").sum(dim=1).mean()
