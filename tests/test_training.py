"""Tests of sce_lib.training: the models, the seeded SGD loop with its checkpoints, the float64 readout,
the invariance of 1^T W and 1^T b under SGD, and the boundary checks. Fast (a few seconds)."""

from __future__ import annotations

import math

import numpy as np

import pytest
import torch
import torch.nn.functional as F

from sce_lib.training import CNN1d, MLP, evaluate, train


def _blobs(n: int = 90, K: int = 3, d: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(K).repeat_interleave(n // K)
    X = torch.randn(len(y), d, generator=gen) + 4.0 * F.one_hot(y, d).float()
    return X, y


TARGETS = (0.8, 0.4, 0.1)


def test_shapes_of_both_models() -> None:
    mlp = MLP(4, 3, hidden=(7, 5), seed=0)
    assert mlp(torch.zeros(6, 4)).shape == (6, 3) and mlp.features(torch.zeros(6, 4)).shape == (6, 5)
    cnn = CNN1d(40, 10, channels=6, n_conv=2, seed=0)
    assert cnn.width == 6 * 10 and cnn.features(torch.zeros(3, 40)).shape == (3, 60)
    assert CNN1d(41, 2, channels=1, n_conv=3, seed=0).width == 6  # 41 -> 21 -> 11 -> 6
    # the declared width is the real one for odd lengths too
    assert CNN1d(41, 2, channels=1, n_conv=3, seed=0).features(torch.zeros(1, 41)).shape == (1, 6)


def test_seeded_initialisation_and_training_are_reproducible() -> None:
    X, y = _blobs()
    assert torch.equal(MLP(4, 3, seed=3).head.weight, MLP(4, 3, seed=3).head.weight)
    assert not torch.equal(MLP(4, 3, seed=3).head.weight, MLP(4, 3, seed=4).head.weight)
    before = torch.randn(1)  # the global generator is not consumed by model construction
    torch.manual_seed(0); a = torch.randn(1); MLP(4, 3, seed=9); b = torch.randn(1)
    torch.manual_seed(0); a2 = torch.randn(1); b2 = torch.randn(1)
    assert torch.equal(a, a2) and torch.equal(b, b2) and before.shape == (1,)
    runs = []
    for _ in range(2):
        net = MLP(4, 3, hidden=(8,), seed=1)
        runs.append((train(net, X, y, loss_targets=TARGETS, lr=0.1, batch_size=16, seed=5), net))
    (r1, n1), (r2, n2) = runs
    assert r1.steps == r2.steps and torch.equal(r1.trace, r2.trace)
    for k, v in n1.state_dict().items():
        assert torch.equal(v, n2.state_dict()[k]), k


def test_checkpoints_hit_their_targets_in_order() -> None:
    X, y = _blobs()
    net = MLP(4, 3, hidden=(8,), seed=0)
    run = train(net, X, y, loss_targets=TARGETS, lr=0.1, batch_size=16, check_every=3)
    assert run.reached_all and [c.target for c in run.checkpoints] == list(TARGETS)
    steps = [c.step for c in run.checkpoints]
    assert steps == sorted(steps) and steps[0] > 0
    for c in run.checkpoints:
        assert c.loss <= c.target and c.step % 3 == 0
        # the recorded L is the mean loss of the saved weights on the full training set
        L = float(evaluate(net, X, y, state=c.state).losses.mean())
        assert L == c.loss
        # ... and the first check that reached the target: the check before it was above the target
        earlier = run.trace[run.trace[:, 0] < c.step]
        assert float(earlier[-1, 1]) > c.target
    assert float(run.trace[0, 0]) == 0.0 and run.trace[-1, 0] == run.steps


def test_unreached_targets_are_reported() -> None:
    X, y = _blobs()
    run = train(MLP(4, 3, hidden=(8,), seed=0), X, y, loss_targets=(0.8, 1e-9), lr=0.1, batch_size=16, max_epochs=2)
    assert not run.reached_all and [c.target for c in run.checkpoints] == [0.8]


def test_evaluate_is_float64_and_matches_torch() -> None:
    X, y = _blobs()
    net = CNN1d(4, 3, channels=3, n_conv=1, seed=0)
    out = evaluate(net, X, y)
    assert out.logits.dtype == out.features.dtype == out.losses.dtype == torch.float64
    assert next(net.parameters()).dtype == torch.float32  # the model itself is untouched
    torch.testing.assert_close(out.logits, out.features @ out.W.T + out.b, rtol=1e-13, atol=1e-13)
    ref = F.cross_entropy(out.logits, y, reduction="none")
    torch.testing.assert_close(out.losses, ref, rtol=1e-12, atol=1e-15)
    # float32 forward pass agrees to float32 rounding (the float64 weights are the same numbers)
    torch.testing.assert_close(out.logits.float(), net(X), rtol=1e-5, atol=1e-5)
    assert evaluate(net, X).losses is None
    # tiny losses keep their digits: a margin of 80 gives a loss of 2 e^-80 (-log_softmax would give 0)
    net.head.bias.data = torch.tensor([80.0, 0.0, 0.0]); net.head.weight.data.zero_()
    tiny = evaluate(net, X[:1], torch.tensor([0])).losses
    torch.testing.assert_close(tiny, torch.tensor([2 * math.exp(-80.0)], dtype=torch.float64), rtol=1e-14, atol=0)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_keeps_the_row_sums_of_the_head(momentum: float) -> None:
    # 1^T grad_W = 1^T (p - y) h^T = 0 for every batch, so 1^T W and 1^T b never move under SGD;
    # in float64 they move only by rounding: ~1e-16 relative per step, 1e-12 after ~100 steps is ample.
    X, y = _blobs()
    net = MLP(4, 3, hidden=(8,), seed=0).double()
    run = train(net, X.double(), y, loss_targets=(1e-9,), lr=0.2, momentum=momentum, max_epochs=20,
                record_head=True)
    sums = run.head_sums
    assert sums.shape == (run.steps + 1, 8 + 1) and sums[0].abs().max() > 0.1
    assert float((sums - sums[0]).abs().max()) < 1e-12
    W_moved = float((net.head.weight.detach() - MLP(4, 3, hidden=(8,), seed=0).head.weight.detach().double()).abs().max())
    assert W_moved > 0.1  # the weights themselves did move


def test_weight_decay_shrinks_the_row_sums_geometrically_and_adam_moves_them() -> None:
    X, y = _blobs()
    lr, wd = 0.1, 0.05
    net = MLP(4, 3, hidden=(8,), seed=0).double()
    run = train(net, X.double(), y, loss_targets=(1e-9,), lr=lr, momentum=0.0, weight_decay=wd,
                max_epochs=5, record_head=True)
    t = torch.arange(run.steps + 1, dtype=torch.float64)[:, None]
    torch.testing.assert_close(run.head_sums, run.head_sums[0] * (1 - lr * wd) ** t, rtol=1e-10, atol=1e-13)
    adam = MLP(4, 3, hidden=(8,), seed=0).double()
    run = train(adam, X.double(), y, loss_targets=(1e-9,), lr=0.01, optimizer="adam", max_epochs=5,
                record_head=True)
    assert float((run.head_sums - run.head_sums[0]).abs().max()) > 1e-3


def test_centred_head_starts_at_zero_row_sums() -> None:
    for net in (MLP(4, 3, seed=0, centred_head=True), CNN1d(8, 5, channels=2, seed=0, centred_head=True)):
        assert float(net.head.weight.detach().sum(0).abs().max()) < 1e-6 and abs(float(net.head.bias.detach().sum())) < 1e-6
    # centring changes only the class mean of the rows
    plain, centred = MLP(4, 3, seed=0), MLP(4, 3, seed=0, centred_head=True)
    C = torch.eye(3) - 1 / 3
    torch.testing.assert_close(C @ plain.head.weight, centred.head.weight)


def test_no_output_without_progress(capsys) -> None:
    X, y = _blobs()
    train(MLP(4, 3, seed=0), X, y, loss_targets=(0.5,), max_epochs=2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("kwargs,error,message", [
    ({"X": torch.zeros(5, 3)}, ValueError, r"X: expected a tensor of shape \(N, 4\)"),
    ({"X": torch.zeros(5, 4, dtype=torch.int64)}, TypeError, "X: expected a floating tensor"),
    ({"X": torch.full((5, 4), float("nan"))}, ValueError, "X: expected finite values"),
    ({"y": torch.tensor([0, 1, 2, 3, 0])}, ValueError, r"y: expected class indices in \[0, 2\], got range \[0, 3\]"),
    ({"y": torch.zeros(4, dtype=torch.int64)}, ValueError, r"y: expected shape \(5,\)"),
    ({"y": torch.zeros(5)}, TypeError, "y: expected an integer tensor"),
    ({"loss_targets": (0.5, 0.7)}, ValueError, "loss_targets: expected strictly decreasing"),
    ({"loss_targets": (0.5, -1.0)}, ValueError, "loss_targets: expected finite numbers > 0"),
    ({"loss_targets": ()}, TypeError, "loss_targets: expected a non-empty sequence"),
    ({"lr": 0.0}, ValueError, "lr: expected a finite number > 0"),
    ({"momentum": 1.0}, ValueError, "momentum: expected a finite number >= 0 and < 1"),
    ({"optimizer": "rmsprop"}, ValueError, r"optimizer: expected one of \('sgd', 'adam'\)"),
    ({"batch_size": 0}, ValueError, "batch_size: expected an int >= 1"),
    ({"progress": 1}, TypeError, "progress: expected a bool"),
    ({"model": torch.nn.Linear(4, 3)}, TypeError, "model: expected a torch.nn.Module with a features"),
])
def test_bad_input_is_named(kwargs, error, message) -> None:
    args = {"model": MLP(4, 3, seed=0), "X": torch.zeros(5, 4), "y": torch.zeros(5, dtype=torch.int64),
            "loss_targets": (0.5,)}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        train(args.pop("model"), args.pop("X"), args.pop("y"), **args)


def test_model_constructor_checks() -> None:
    with pytest.raises(ValueError, match="K: expected an int >= 2"):
        MLP(4, 1)
    with pytest.raises(TypeError, match="hidden: expected a non-empty tuple"):
        MLP(4, 3, hidden=())
    with pytest.raises(ValueError, match="channels: expected an int >= 1"):
        CNN1d(40, 10, channels=0)
    with pytest.raises(TypeError, match="state: expected a state_dict"):
        evaluate(MLP(4, 3, seed=0), torch.zeros(2, 4), state=[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    # float64 MLP, the same seeds: the batch order is drawn on the CPU, so both devices take the same
    # steps; results agree to float64 rounding accumulated over the run (1e-9 is ample for 60 steps)
    X, y = _blobs()
    runs = {}
    for device in ("cpu", "cuda"):
        net = MLP(4, 3, hidden=(8,), seed=0).double().to(device)
        run = train(net, X.double().to(device), y.to(device), loss_targets=(1e-9,), max_epochs=10, record_head=True)
        out = evaluate(net, X.double().to(device), y.to(device))
        runs[device] = (run, out)
    (r_cpu, o_cpu), (r_gpu, o_gpu) = runs["cpu"], runs["cuda"]
    assert o_gpu.logits.device.type == "cuda" and r_cpu.steps == r_gpu.steps
    torch.testing.assert_close(o_gpu.logits.cpu(), o_cpu.logits, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(r_gpu.head_sums.cpu(), r_cpu.head_sums, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ the extensions: the loss as a choice, step checkpoints
from sce_lib.training import training_loss  # noqa: E402


def _objective_numpy(z: np.ndarray, y: np.ndarray, loss: str, param: float | None) -> float:
    """The per-sample objectives written out from their definitions (numpy, float64), averaged."""
    B, K = z.shape
    logp = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    e = np.eye(K)[y]
    if loss == "cross_entropy":
        per = -(e * logp).sum(1)
    elif loss == "label_smoothing":
        per = -(((1 - param) * e + param / K) * logp).sum(1)
    elif loss == "squared_error":
        per = 0.5 * ((z - e) ** 2).sum(1)
    elif loss == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        per = -(e * np.log(s) + (1 - e) * np.log(1 - s)).sum(1)
    else:
        per = -(e * logp).sum(1) + param * (z ** 2).sum(1)
    return float(per.mean())


LOSS_CASES = [("cross_entropy", None), ("label_smoothing", 0.1), ("label_smoothing", 0.3), ("squared_error", None),
              ("sigmoid", None), ("logit_penalty", 1e-3), ("logit_penalty", 0.2)]


@pytest.mark.parametrize("loss,param", LOSS_CASES)
def test_training_loss_matches_its_definition(loss: str, param: float | None) -> None:
    gen = torch.Generator().manual_seed(0)
    z = 3.0 * torch.randn(50, 6, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 6, (50,), generator=gen)
    got = float(training_loss(z, y, loss, param))
    assert got == pytest.approx(_objective_numpy(z.numpy(), y.numpy(), loss, param), rel=1e-12)
    # the defaults of the parameters: epsilon = 0.1, rho = 1e-3
    if param in (0.1, 1e-3):
        assert float(training_loss(z, y, loss)) == got


@pytest.mark.parametrize("loss,param", LOSS_CASES)
def test_train_takes_sgd_steps_on_the_chosen_objective(loss: str, param: float | None) -> None:
    # a hand-written loop with the numpy objective's autograd twin (the definitions in torch ops, not
    # training_loss) and the same batch order must give the same weights, to float64 rounding
    X, y = _blobs()
    X = X.double()
    net = MLP(4, 3, hidden=(8,), seed=2).double()
    run = train(net, X, y, lr=0.05, momentum=0.9, weight_decay=1e-3, batch_size=16, check_every=1000,
                loss=loss, loss_param=param, checkpoint_steps=(12,))
    assert run.steps == 12 and run.reached_all and run.checkpoints == []

    ref = MLP(4, 3, hidden=(8,), seed=2).double()
    opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    gen = torch.Generator().manual_seed(0 + 1)
    K, step = 3, 0
    while step < 12:
        order = torch.randperm(len(y), generator=gen)
        for i in range(math.ceil(len(y) / 16)):
            idx = order[i * 16:(i + 1) * 16]
            z = ref(X[idx]); e = F.one_hot(y[idx], K).double()
            logp = z - torch.logsumexp(z, 1, keepdim=True)
            per = {"cross_entropy": lambda: -(e * logp).sum(1),
                   "label_smoothing": lambda: -(((1 - (param or 0)) * e + (param or 0) / K) * logp).sum(1),
                   "squared_error": lambda: 0.5 * ((z - e) ** 2).sum(1),
                   "sigmoid": lambda: (F.softplus(z) - e * z).sum(1),
                   "logit_penalty": lambda: -(e * logp).sum(1) + (param or 0) * (z ** 2).sum(1)}[loss]()
            opt.zero_grad(); per.mean().backward(); opt.step()
            step += 1
            if step == 12:
                break
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, ref.state_dict()[k], rtol=1e-10, atol=1e-12)
    # the losses really differ: two objectives give different weights
    other = MLP(4, 3, hidden=(8,), seed=2).double()
    train(other, X, y, lr=0.05, batch_size=16, checkpoint_steps=(12,), check_every=1000,
          loss="squared_error" if loss != "squared_error" else "sigmoid")
    assert not torch.equal(other.head.weight, net.head.weight)


def test_default_objective_is_unchanged_by_the_new_arguments() -> None:
    # the explicit default loss and checkpoint steps taken along the way do not change a single bit
    X, y = _blobs()
    nets = [MLP(4, 3, hidden=(8,), seed=1) for _ in range(3)]
    r0 = train(nets[0], X, y, loss_targets=TARGETS, lr=0.1, batch_size=16, seed=5)
    r1 = train(nets[1], X, y, loss_targets=TARGETS, lr=0.1, batch_size=16, seed=5, loss="cross_entropy")
    r2 = train(nets[2], X, y, loss_targets=TARGETS, lr=0.1, batch_size=16, seed=5, checkpoint_steps=(1, 7))
    assert r0.steps == r1.steps == r2.steps > 7 and torch.equal(r0.trace, r2.trace) and r0.step_checkpoints == []
    for k, v in nets[0].state_dict().items():
        assert torch.equal(v, nets[1].state_dict()[k]) and torch.equal(v, nets[2].state_dict()[k]), k


def test_checkpoints_by_step() -> None:
    X, y = _blobs()
    net = MLP(4, 3, hidden=(8,), seed=0)
    run = train(net, X, y, lr=0.1, batch_size=16, checkpoint_steps=(3, 10, 40), check_every=4)
    assert run.reached_all and run.steps == 40 and [c.step for c in run.step_checkpoints] == [3, 10, 40]
    for c in run.step_checkpoints:
        # L is the float64 mean loss of the saved weights, and target = loss for a step checkpoint
        assert c.loss == c.target == float(evaluate(net, X, y, state=c.state).losses.mean())
    # the weights at step 10 are those of a run stopped at step 10
    short = MLP(4, 3, hidden=(8,), seed=0)
    train(short, X, y, lr=0.1, batch_size=16, checkpoint_steps=(10,), check_every=4)
    for k, v in short.state_dict().items():
        assert torch.equal(v, run.step_checkpoints[1].state[k]), k
    # with loss targets too, training goes on until both lists are done
    both = train(MLP(4, 3, hidden=(8,), seed=0), X, y, loss_targets=(0.8,), lr=0.1, batch_size=16,
                 checkpoint_steps=(50,), check_every=4)
    assert both.reached_all and both.steps == 50 and both.checkpoints[0].step < 50
    # an unreachable step is reported
    late = train(MLP(4, 3, hidden=(8,), seed=0), X, y, lr=0.1, batch_size=16, checkpoint_steps=(5, 10_000),
                 max_epochs=2)
    assert not late.reached_all and [c.step for c in late.step_checkpoints] == [5]


@pytest.mark.parametrize("kwargs,error,message", [
    ({"loss": "hinge"}, ValueError, "loss: expected one of cross_entropy"),
    ({"loss": "squared_error", "loss_param": 0.1}, ValueError, "loss_param: expected None for loss='squared_error'"),
    ({"loss": "label_smoothing", "loss_param": 1.0}, ValueError, r"loss_param: expected epsilon in \(0, 1\)"),
    ({"loss": "logit_penalty", "loss_param": 0.0}, ValueError, "loss_param: expected rho > 0"),
    ({"loss": "logit_penalty", "loss_param": "big"}, TypeError, "loss_param: expected a finite real number"),
    ({"checkpoint_steps": (5, 5)}, ValueError, "checkpoint_steps: expected strictly increasing"),
    ({"checkpoint_steps": (0,)}, ValueError, "checkpoint_steps: expected ints >= 1"),
    ({"checkpoint_steps": 5}, TypeError, "checkpoint_steps: expected a sequence of ints"),
    ({"loss_targets": (), "checkpoint_steps": ()}, TypeError, "loss_targets: expected a non-empty sequence"),
])
def test_bad_extension_input_is_named(kwargs, error, message) -> None:
    args = {"loss_targets": (0.5,)}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        train(MLP(4, 3, seed=0), torch.zeros(5, 4), torch.zeros(5, dtype=torch.int64), **args)
    if "loss" in kwargs:
        with pytest.raises(error, match=message):
            training_loss(torch.zeros(2, 3), torch.zeros(2, dtype=torch.int64), kwargs["loss"], kwargs.get("loss_param"))


def test_lr_decay_steps_divide_the_step_size() -> None:
    # a hand-written loop that multiplies the step by 0.1 after steps 5 and 9 gives the same weights
    X, y = _blobs()
    X = X.double()
    net = MLP(4, 3, hidden=(8,), seed=4).double()
    run = train(net, X, y, lr=0.1, momentum=0.9, weight_decay=1e-3, batch_size=16, checkpoint_steps=(12,),
                lr_decay_steps=(5, 9), lr_decay=0.1, seed=2)
    assert run.steps == 12
    ref = MLP(4, 3, hidden=(8,), seed=4).double()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    gen = torch.Generator().manual_seed(2 + 1)
    step = 0
    while step < 12:
        order = torch.randperm(len(y), generator=gen)
        for i in range(math.ceil(len(y) / 16)):
            idx = order[i * 16:(i + 1) * 16]
            opt.zero_grad(); F.cross_entropy(ref(X[idx]), y[idx]).backward(); opt.step()
            step += 1
            if step in (5, 9):
                opt.param_groups[0]["lr"] *= 0.1
            if step == 12:
                break
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, ref.state_dict()[k], rtol=1e-12, atol=1e-14)
    # and the decay matters
    other = MLP(4, 3, hidden=(8,), seed=4).double()
    train(other, X, y, lr=0.1, momentum=0.9, weight_decay=1e-3, batch_size=16, checkpoint_steps=(12,), seed=2)
    assert not torch.allclose(other.head.weight, net.head.weight)
    with pytest.raises(ValueError, match="lr_decay_steps: expected strictly increasing"):
        train(MLP(4, 3, seed=0), X.float(), y, checkpoint_steps=(3,), lr_decay_steps=(4, 2))
    with pytest.raises(ValueError, match="lr_decay: expected"):
        train(MLP(4, 3, seed=0), X.float(), y, checkpoint_steps=(3,), lr_decay=0.0)
