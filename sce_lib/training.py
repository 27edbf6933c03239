"""Small seeded networks, a seeded SGD loop that keeps checkpoints at chosen loss levels, and float64 readout.

The separability chapter needs trained networks whose *mean training cross-entropy* ``L`` passes through
a list of values (from about ``log K`` down to 0.02), and, at each of those moments, the logits
``z = W h + b`` and the penultimate features ``h`` of every sample. This module provides:

* :class:`MLP` and :class:`CNN1d`: ``features(x) -> h`` (N, width) followed by a fully connected
  ``head`` (``torch.nn.Linear(width, K)``), so ``z = head(features(x))``;
* :func:`train`: mini-batch SGD (optionally with momentum and weight decay, or Adam for comparison),
  seeded, which measures ``L`` on the full training set in eval mode every ``check_every`` steps and keeps
  a :class:`Checkpoint` (a copy of the weights) the first time ``L`` falls to each target, and, if asked,
  at chosen steps; the objective is the cross-entropy by default, or one of the alternatives of
  :func:`training_loss` (label smoothing, squared error, one-vs-rest sigmoid, a logit penalty);
* :func:`evaluate`: the logits, features and per-sample losses of a model (or of one of its checkpoints)
  in float64 and eval mode — the weights are trained in float32 and read out exactly in float64.

Everything is deterministic: the initial weights come from ``seed``, the mini-batch order from a
``torch.Generator`` seeded with ``seed + 1``; on a CPU with one thread two runs give identical bits.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .functional import cross_entropy
from ._validate.scalars import check_bool, check_int, check_option, check_real
from ._validate.training import (check_checkpoint_steps, check_inputs, check_labels, check_loss_choice,
                                 check_loss_targets, check_model)
from .objectives import _objective, training_loss

__all__ = ["MLP", "CNN1d", "Checkpoint", "TrainingRun", "Readout", "train", "evaluate", "training_loss"]


def _centre_rows(head: nn.Linear) -> None:
    """Subtract the class mean from the head's weights and bias, so 1^T W = 0 and 1^T b = 0."""
    with torch.no_grad():
        head.weight -= head.weight.mean(dim=0, keepdim=True)
        head.bias -= head.bias.mean()


class MLP(nn.Module):
    """A multilayer perceptron: ``h = relu(... relu(A_1 x + c_1) ...)``, ``z = W h + b``.

    Args:
        d_in: input width. K: classes (>= 2). hidden: widths of the hidden layers (at least one).
        seed: seed of the initial weights (PyTorch's default initialisation, drawn under this seed).
        centred_head: start the head with ``1^T W = 0`` and ``1^T b = 0`` (rows minus their class mean).

    Shapes: ``features`` (N, d_in) -> (N, hidden[-1]); ``forward`` (N, d_in) -> (N, K).

    Example:
        >>> net = MLP(4, 3, hidden=(8,), seed=0)
        >>> tuple(net(torch.zeros(5, 4)).shape), tuple(net.features(torch.zeros(5, 4)).shape)
        ((5, 3), (5, 8))

    Derived in: book/06-separability.md, §Networks trained here.
    """

    def __init__(self, d_in: int, K: int, hidden: tuple[int, ...] = (64,), *, seed: int = 0,
                 centred_head: bool = False) -> None:
        super().__init__()
        self.d_in, self.K = check_int(d_in, "d_in", minimum=1), check_int(K, "K", minimum=2)
        if not isinstance(hidden, (tuple, list)) or len(hidden) == 0:
            raise TypeError(f"hidden: expected a non-empty tuple of ints, got {hidden!r}")
        widths = [self.d_in] + [check_int(w, "hidden", minimum=1) for w in hidden]
        seed = check_int(seed, "seed", minimum=0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            for a, b in zip(widths, widths[1:]):
                layers += [nn.Linear(a, b), nn.ReLU()]
            self.body = nn.Sequential(*layers)
            self.head = nn.Linear(widths[-1], self.K)
        if check_bool(centred_head, "centred_head"):
            _centre_rows(self.head)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features h: (N, d_in) -> (N, width)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits z = W h + b: (N, d_in) -> (N, K)."""
        return self.head(self.features(x))


class CNN1d(nn.Module):
    """A small 1-D convolutional network: ``n_conv`` layers ``Conv1d(kernel 5, stride 2, padding 2) + ReLU``
    with ``channels`` channels each, flattened into ``h``, then ``z = W h + b``.

    A signal of length ``d_in`` has length ``ceil(d_in / 2)`` after each layer, so ``h`` has
    ``channels * ceil(d_in / 2**n_conv)`` entries (125 for MNIST-1D's 40 with the defaults).

    Args:
        d_in: signal length. K: classes (>= 2). channels: channels per layer. n_conv: number of layers.
        seed: seed of the initial weights. centred_head: as in :class:`MLP`.

    Shapes: ``features`` (N, d_in) -> (N, width); ``forward`` (N, d_in) -> (N, K).

    Example:
        >>> net = CNN1d(40, 10, seed=0)
        >>> net.width, tuple(net(torch.zeros(2, 40)).shape)
        (125, (2, 10))

    Derived in: book/06-separability.md, §Networks trained here.
    """

    def __init__(self, d_in: int, K: int, channels: int = 25, n_conv: int = 3, *, seed: int = 0,
                 centred_head: bool = False) -> None:
        super().__init__()
        self.d_in, self.K = check_int(d_in, "d_in", minimum=1), check_int(K, "K", minimum=2)
        channels, n_conv = check_int(channels, "channels", minimum=1), check_int(n_conv, "n_conv", minimum=1)
        seed = check_int(seed, "seed", minimum=0)
        length = self.d_in
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            for i in range(n_conv):
                layers += [nn.Conv1d(1 if i == 0 else channels, channels, 5, stride=2, padding=2), nn.ReLU()]
                length = (length - 1) // 2 + 1
            self.body = nn.Sequential(*layers, nn.Flatten())
            self.width = channels * length
            self.head = nn.Linear(self.width, self.K)
        if check_bool(centred_head, "centred_head"):
            _centre_rows(self.head)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features h: (N, d_in) -> (N, width)."""
        return self.body(x.unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits z = W h + b: (N, d_in) -> (N, K)."""
        return self.head(self.features(x))


@dataclass(frozen=True)
class Checkpoint:
    """The weights the first time the full-training-set loss fell to ``target`` or below (or at a chosen step).

    A checkpoint by step (in :attr:`TrainingRun.step_checkpoints`) has ``target`` equal to its measured
    ``loss``: it was asked for by step, not by loss level.

    Attributes:
        target: the loss level asked for. loss: the measured L (float64, eval mode) at that moment.
        step: SGD steps taken. epoch: passes over the data started. state: a copy of ``state_dict()``.
    """

    target: float
    loss: float
    step: int
    epoch: int
    state: dict[str, torch.Tensor] = field(repr=False)


@dataclass(frozen=True)
class TrainingRun:
    """What :func:`train` returns.

    Attributes:
        checkpoints: one :class:`Checkpoint` per target reached, in the order of the targets
            (a target reached at the same check as the previous one shares its weights).
        trace: (n_checks, 2) float64 tensor of (step, L) at every check, L on the full training set (in
            float64 within 1 % of the next target and below it, otherwise in the training dtype).
        head_sums: (steps + 1, width + 1) float64 tensor of ``(1^T W, 1^T b)`` after every step (row 0:
            initial), or None unless ``record_head=True``.
        steps: steps taken. reached_all: whether every target was reached (and every checkpoint step
            taken) within ``max_epochs``.
        step_checkpoints: one :class:`Checkpoint` per entry of ``checkpoint_steps`` taken, in order, with
            L measured in float64 after that step (empty unless ``checkpoint_steps`` was given).
    """

    checkpoints: list[Checkpoint]
    trace: torch.Tensor
    head_sums: torch.Tensor | None
    steps: int
    reached_all: bool
    step_checkpoints: list[Checkpoint] = field(default_factory=list)


@dataclass(frozen=True)
class Readout:
    """Float64, eval-mode outputs of a model on a data set.

    Attributes:
        logits: (N, K). features: (N, width). losses: (N,) per-sample cross-entropy ``-log p_{y_n}``
            (None when no labels were given). W: (K, width) and b: (K,) the head, in float64.
    """

    logits: torch.Tensor
    features: torch.Tensor
    losses: torch.Tensor | None
    W: torch.Tensor
    b: torch.Tensor


def _mean_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """L = mean CE on (X, y) in float64 and eval mode (the float32 weights are read out exactly)."""
    return float(evaluate(model, X, y).losses.mean())


def _mean_loss_fast(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """L in the model's own dtype (a float32 forward pass: relative error ~1e-6), eval mode, no copy."""
    model.eval()
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(X), y))


def _head_sums(model: nn.Module) -> torch.Tensor:
    W, b = model.head.weight.detach(), model.head.bias.detach()
    return torch.cat([W.double().sum(dim=0), b.double().sum().reshape(1)])


def train(model: nn.Module, X: Any, y: Any, *, loss_targets: tuple[float, ...] = (), lr: float = 0.05,
          momentum: float = 0.9, weight_decay: float = 0.0, optimizer: str = "sgd", batch_size: int = 64,
          max_epochs: int = 100, check_every: int = 10, seed: int = 0, record_head: bool = False,
          progress: bool = False, loss: str = "cross_entropy", loss_param: float | None = None,
          checkpoint_steps: tuple[int, ...] = (), lr_decay_steps: tuple[int, ...] = (),
          lr_decay: float = 0.1) -> TrainingRun:
    """Train ``model`` in place with mini-batch SGD on the mean cross-entropy and keep checkpoints at loss levels.

    Each step draws the next mini-batch of a seeded random permutation (one permutation per epoch),
    computes the mean CE of the batch, and updates the weights with ``torch.optim.SGD(lr, momentum,
    weight_decay)`` (or ``torch.optim.Adam(lr, weight_decay)`` with ``optimizer="adam"``). The weights keep
    the model's dtype (float32 unless the caller converted it). Every ``check_every`` steps (and at step 0)
    the mean loss L over the *whole* training set is measured in eval mode, in float64, without any
    regularisation term; the first time L <= target, for each target in turn, a :class:`Checkpoint` is kept.
    Training stops when the last target is reached or after ``max_epochs`` epochs.

    Three additions, all off by default (the defaults give the same bits as before they existed):
    ``loss`` trains on another objective (:func:`training_loss`; L, the targets and the trace stay the
    mean *cross-entropy*, the quantity of the separability bound), and ``checkpoint_steps`` keeps a
    checkpoint after each of the given steps (L measured in float64 there), for long runs such as the
    terminal phase where the cross-entropy may never reach a target; training then continues until the
    last target is reached *and* the last of these steps is taken; ``lr_decay_steps`` divides the step
    size at the given steps (a piecewise-constant schedule, as in long runs into the terminal phase).

    Args:
        model: an :class:`MLP` or :class:`CNN1d` (any module with ``features`` and a linear ``head``).
        X: (N, d_in) floating inputs (converted to the model's dtype). y: (N,) class indices in [0, K-1].
        loss_targets: strictly decreasing loss levels > 0 (may be empty when ``checkpoint_steps`` is not).
        lr: step size > 0. momentum: in [0, 1) (SGD only). weight_decay: >= 0 (applied to every parameter).
        optimizer: ``"sgd"`` or ``"adam"``. batch_size: >= 1. max_epochs: >= 1. check_every: steps between checks.
        seed: seed of the batch order. record_head: record ``(1^T W, 1^T b)`` after every step.
        progress: show a tqdm bar (for interactive use; off by default, never in the book's build).
        loss: the objective, one of ``"cross_entropy"`` (default), ``"label_smoothing"``, ``"squared_error"``,
            ``"sigmoid"``, ``"logit_penalty"`` (see :func:`training_loss`). loss_param: its ε or ρ (None: default).
        checkpoint_steps: strictly increasing steps >= 1 after which a checkpoint is kept (default none).
        lr_decay_steps: strictly increasing steps >= 1 after which the step size is multiplied by ``lr_decay``
            (in (0, 1]; default 0.1), the piecewise-constant schedule of Papyan et al. (default: none).

    Returns:
        A :class:`TrainingRun`.

    Example:
        >>> gen = torch.Generator().manual_seed(0)
        >>> X = torch.randn(60, 2, generator=gen); y = (X[:, 0] > 0).long()
        >>> run = train(MLP(2, 2, hidden=(8,), seed=0), X, y, loss_targets=(0.5, 0.2), lr=0.1, batch_size=20)
        >>> [c.target for c in run.checkpoints], run.reached_all, run.checkpoints[-1].loss <= 0.2
        ([0.5, 0.2], True, True)

    Derived in: book/06-separability.md, §Networks trained here.
    """
    model = check_model(model)
    dtype = next(model.parameters()).dtype
    X = check_inputs(X, model).to(dtype)
    y = check_labels(y, X, model.K)
    at_steps = check_checkpoint_steps(checkpoint_steps)
    targets = check_loss_targets(loss_targets, allow_empty=len(at_steps) > 0)
    loss, loss_param = check_loss_choice(loss, loss_param)
    decay_at = check_checkpoint_steps(lr_decay_steps, "lr_decay_steps")
    lr_decay = check_real(lr_decay, "lr_decay", minimum=0.0, maximum=1.0, strict_min=True)
    lr = check_real(lr, "lr", minimum=0.0, strict_min=True)
    momentum = check_real(momentum, "momentum", minimum=0.0, maximum=1.0, strict_max=True)
    weight_decay = check_real(weight_decay, "weight_decay", minimum=0.0)
    optimizer = check_option(optimizer, "optimizer", ("sgd", "adam"))
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    max_epochs = check_int(max_epochs, "max_epochs", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    record_head, progress = check_bool(record_head, "record_head"), check_bool(progress, "progress")

    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed + 1)
    N = X.shape[0]
    per_epoch = math.ceil(N / batch_size)
    checkpoints: list[Checkpoint] = []
    trace: list[tuple[float, float]] = []
    sums = [_head_sums(model)] if record_head else []
    step, next_target = 0, 0
    step_checkpoints: list[Checkpoint] = []

    def check(epoch: int) -> bool:
        nonlocal next_target
        # A cheap pass in the training dtype first; the float64 readout only near or below a target
        # (1 % slack covers the float32 error many times over), so decisions always use the float64 L.
        L = _mean_loss_fast(model, X, y)
        if next_target < len(targets) and L <= 1.01 * targets[next_target]:
            L = _mean_loss(model, X, y)
        trace.append((float(step), L))
        state = None
        while next_target < len(targets) and L <= targets[next_target]:
            state = state or {k: v.detach().clone() for k, v in model.state_dict().items()}
            checkpoints.append(Checkpoint(targets[next_target], L, step, epoch, state))
            next_target += 1
        return next_target == len(targets) and len(step_checkpoints) == len(at_steps)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=max_epochs * per_epoch, desc="training", leave=False)
    done = check(0)
    epoch = 0
    while not done and epoch < max_epochs:
        epoch += 1
        order = torch.randperm(N, generator=gen).to(X.device)
        model.train()
        for i in range(per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            opt.zero_grad(set_to_none=True)
            if loss == "cross_entropy":
                nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            else:
                _objective(model(X[idx]), y[idx], loss, loss_param).backward()
            opt.step()
            step += 1
            if record_head:
                sums.append(_head_sums(model))
            if bar is not None:
                bar.update(1)
            if step in decay_at:
                for group in opt.param_groups:
                    group["lr"] *= lr_decay
            if len(step_checkpoints) < len(at_steps) and step == at_steps[len(step_checkpoints)]:
                L_step = _mean_loss(model, X, y)
                step_checkpoints.append(Checkpoint(L_step, L_step, step, epoch,
                                                   {k: v.detach().clone() for k, v in model.state_dict().items()}))
                if next_target == len(targets) and len(step_checkpoints) == len(at_steps):
                    done = True      # the last step asked for, every target reached: stop here
                    break
            if step % check_every == 0 and check(epoch):
                done = True
                break
    if bar is not None:
        bar.close()
    if not done and step % check_every != 0:
        done = check(epoch)
    model.eval()
    return TrainingRun(checkpoints, torch.tensor(trace, dtype=torch.float64),
                       torch.stack(sums) if record_head else None, step, done, step_checkpoints)


def evaluate(model: nn.Module, X: Any, y: Any = None, *, state: dict[str, torch.Tensor] | None = None) -> Readout:
    """Logits, penultimate features and per-sample losses of ``model`` (or of a checkpoint's ``state``), in float64.

    The model is copied, converted to float64 (float32 weights are represented exactly) and put in eval
    mode; the original is untouched. The per-sample loss ``-log p_y`` is :func:`sce_lib.cross_entropy`
    with ``reduction="none"``, accurate to a few ulps also where it is tiny (a confidently correct sample
    whose loss is 1e-20 gets 1e-20, not the 0 that ``-log_softmax`` rounds it to).

    Args:
        model: an :class:`MLP` or :class:`CNN1d`. X: (N, d_in) inputs. y: optional (N,) labels.
        state: a ``state_dict`` (e.g. ``Checkpoint.state``) to load into the copy first.

    Returns:
        A :class:`Readout` with logits (N, K), features (N, width), losses (N,) or None, W (K, width), b (K,).

    Example:
        >>> net = MLP(3, 4, hidden=(5,), seed=0)
        >>> out = evaluate(net, torch.zeros(2, 3), torch.tensor([0, 1]))
        >>> out.logits.dtype, tuple(out.features.shape), bool(torch.allclose(out.logits, out.features @ out.W.T + out.b))
        (torch.float64, (2, 5), True)

    Derived in: book/06-separability.md, §Networks trained here.
    """
    model = check_model(model)
    X = check_inputs(X, model)
    if y is not None:
        y = check_labels(y, X, model.K)
    twin = copy.deepcopy(model)
    if state is not None:
        if not isinstance(state, dict):
            raise TypeError(f"state: expected a state_dict (dict of tensors), got {type(state).__name__}")
        twin.load_state_dict(state)
    twin = twin.double().eval()
    with torch.no_grad():
        h = twin.features(X.double())
        z = twin.head(h)
        losses = None if y is None else cross_entropy(z, y, reduction="none")
    return Readout(z, h, losses, twin.head.weight.detach(), twin.head.bias.detach())
