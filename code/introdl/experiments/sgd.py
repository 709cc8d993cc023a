"""Experiments of the chapter "Stochastic gradient descent": how noisy a
mini-batch gradient is, training timed per epoch and per second, and a sweep
of batch sizes and learning rates. Training goes through the book's loop
:func:`introdl.training.fit`."""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_ndim, check_positive_int, check_tensor
from introdl.optim import Optimizer
from introdl.training import evaluate, fit

__all__ = ["minibatch_gradient_variance", "TimedRun", "timed_training",
           "BatchSizeSweep", "batch_size_lr_sweep"]


def minibatch_gradient_variance(G: torch.Tensor, batch_sizes: Sequence[int],
                                num_draws: int = 200,
                                generator: torch.Generator | None = None,
                                ) -> torch.Tensor:
    """Measure how far mini-batch gradients fall from the full gradient.

    ``G`` ``(n, P)`` holds per-example gradients. For each batch size ``B`` in
    ``[1, n]``, draw ``num_draws`` mini-batches of ``B`` distinct examples (as
    an epoch does) and return the mean of ``||g_B - g||^2``, ``g`` the full
    gradient: a float64 tensor ``(len(batch_sizes),)``.
    """
    check_ndim("G", check_tensor("G", G, floating=True), (2,))
    check_positive_int("num_draws", num_draws)
    n = G.shape[0]
    G = G.to(torch.float64)
    g = G.mean(dim=0)  # (P,) full-batch gradient
    out = []
    for B in batch_sizes:
        if check_positive_int("batch size", B) > n:
            raise ValueError(f"batch size must be at most n={n}, got {B}")
        ranks = torch.rand(num_draws, n, generator=generator).argsort(dim=1)
        S = (ranks < B).to(G) / B  # (draws, n): 1/B on the chosen rows
        g_B = S @ G  # (draws, P) mini-batch gradients
        out.append(((g_B - g) ** 2).sum(dim=1).mean().item())
    return torch.tensor(out, dtype=torch.float64)


@dataclass
class TimedRun:
    """Training loss against (fractional) epochs and seconds of training."""

    epoch: list[float] = field(default_factory=lambda: [0.0])
    time: list[float] = field(default_factory=lambda: [0.0])
    loss: list[float] = field(default_factory=list)


def timed_training(make_model: Callable[[], nn.Module],
                   train_data: tuple[torch.Tensor, torch.Tensor], *,
                   optimizer: Callable[..., Optimizer], batch_size: int | None,
                   lr: float, num_epochs: int, evals_per_epoch: int = 1,
                   seed: int = 0) -> TimedRun:
    """Train with :func:`~introdl.training.fit`, timing it and recording the loss.

    Each epoch visits the training set in a random order. With
    ``evals_per_epoch = k > 1`` the epoch is cut into ``k`` consecutive parts
    of that order (each trained by one call of ``fit``), so the loss is also
    recorded within the epoch. The loss on the whole training set is measured
    after every part; this evaluation is not counted in the time.

    Args:
        make_model: returns a fresh model (the same one for every call).
        optimizer: a class called as ``optimizer(params, lr=lr)``.
        batch_size: ``None`` for full-batch gradient descent (then
            ``evals_per_epoch`` must be 1).
    Returns:
        A :class:`TimedRun` with ``num_epochs * evals_per_epoch + 1`` entries,
        starting at epoch 0, time 0.
    """
    check_positive_int("num_epochs", num_epochs)
    check_positive_int("evals_per_epoch", evals_per_epoch)
    if batch_size is None and evals_per_epoch != 1:
        raise ValueError("evals_per_epoch must be 1 for full-batch training, got "
                         f"{evals_per_epoch}")
    X, y = train_data
    model = make_model()
    opt = optimizer(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    run = TimedRun(loss=[evaluate(model, train_data, F.cross_entropy)[0]])
    for epoch in range(num_epochs):
        order = torch.randperm(len(X), generator=generator)
        for k, idx in enumerate(order.tensor_split(evals_per_epoch)):
            start = time.perf_counter()
            fit(model, (X[idx], y[idx]), loss_fn=F.cross_entropy, optimizer=opt,
                num_epochs=1, batch_size=batch_size, generator=generator)
            run.time.append(run.time[-1] + time.perf_counter() - start)
            run.epoch.append(epoch + (k + 1) / evals_per_epoch)
            run.loss.append(evaluate(model, train_data, F.cross_entropy)[0])
    return run


@dataclass
class BatchSizeSweep:
    """Final training loss of every run: ``losses[i][j]`` for batch size
    ``batch_sizes[i]`` and learning rate ``lrs[j]`` (``inf`` if it diverged)."""

    batch_sizes: list[int]
    lrs: list[float]
    losses: list[list[float]] = field(default_factory=list)

    def best_lr(self, batch_size: int) -> float:
        """The learning rate with the lowest final loss for ``batch_size``."""
        row = self.losses[self.batch_sizes.index(batch_size)]
        return self.lrs[min(range(len(row)), key=row.__getitem__)]


def batch_size_lr_sweep(make_model: Callable[[], nn.Module],
                        train_data: tuple[torch.Tensor, torch.Tensor], *,
                        optimizer: Callable[..., Optimizer],
                        batch_sizes: Sequence[int], lrs: Sequence[float],
                        num_steps: int, seed: int = 0) -> BatchSizeSweep:
    """Final training loss for every pair (batch size, learning rate).

    Every run starts from ``make_model()`` and trains with
    :func:`~introdl.training.fit` for the whole number of epochs closest to
    ``num_steps`` steps (at least one epoch), so runs with different batch
    sizes take about the same number of steps; a larger batch makes each step
    less noisy (and sees more data). A loss that is not finite (the run
    diverged) is recorded as ``inf``.
    """
    check_positive_int("num_steps", num_steps)
    n = len(train_data[0])
    sweep = BatchSizeSweep(list(batch_sizes), list(lrs))
    for B in sweep.batch_sizes:
        steps_per_epoch = math.ceil(n / check_positive_int("batch size", B))
        num_epochs = max(1, round(num_steps / steps_per_epoch))
        row = []
        for lr in sweep.lrs:
            model = make_model()
            fit(model, train_data, loss_fn=F.cross_entropy,
                optimizer=optimizer(model.parameters(), lr=lr),
                num_epochs=num_epochs, batch_size=B,
                generator=torch.Generator().manual_seed(seed))
            loss = evaluate(model, train_data, F.cross_entropy)[0]
            row.append(loss if math.isfinite(loss) else math.inf)
        sweep.losses.append(row)
    return sweep
