"""Experiments of the chapter "Learning rates and adaptive methods": recording
every parameter along a training run (to compare optimizers step by step) and
sweeping the learning rate."""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_positive_int
from introdl.optim import Optimizer
from introdl.training import History, fit

__all__ = ["parameter_trajectory", "LRSweep", "sweep_learning_rates"]


def parameter_trajectory(model: nn.Module, optimizer, loss_fn: Callable,
                         X: torch.Tensor, y: torch.Tensor,
                         num_steps: int) -> torch.Tensor:
    """Full-batch training steps on ``(X, y)``, recording every parameter.

    ``model`` is trained in place by ``optimizer`` (ours or ``torch.optim``'s).
    Returns ``(num_steps + 1, P)``: all ``P`` parameters, flattened, before
    the first step and after each step.
    """
    check_positive_int("num_steps", num_steps)
    flat = [nn.utils.parameters_to_vector(model.parameters()).detach().clone()]
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()
        flat.append(nn.utils.parameters_to_vector(model.parameters()).detach())
    return torch.stack(flat)


@dataclass
class LRSweep:
    """One training run per learning rate: ``histories[i]`` used ``lrs[i]``."""

    lrs: list[float]
    histories: list[History]

    def history(self, lr: float) -> History:
        """The run with learning rate ``lr``."""
        return self.histories[self.lrs.index(lr)]

    @property
    def best_lr(self) -> float:
        """The learning rate with the lowest final validation loss (a run whose
        loss is not finite never wins)."""
        finals = [h.val_loss[-1] for h in self.histories]
        ok = [i for i, v in enumerate(finals) if math.isfinite(v)]
        if not ok:
            raise ValueError(f"every run diverged, got final losses {finals}")
        return self.lrs[min(ok, key=finals.__getitem__)]


def sweep_learning_rates(make_model: Callable[[], nn.Module],
                         train_data: tuple[torch.Tensor, torch.Tensor],
                         val_data: tuple[torch.Tensor, torch.Tensor],
                         optimizer: Callable[..., Optimizer], lrs: Iterable[float],
                         *, num_epochs: int, batch_size: int, seed: int = 0,
                         **hyper) -> LRSweep:
    """Train a fresh ``make_model()`` with cross-entropy and each learning rate
    in ``lrs``, calling ``optimizer(params, lr=lr, **hyper)`` (a class such as
    ``Adam``). Every run shuffles its mini-batches from the same ``seed``, so
    only the learning rate differs."""
    sweep = LRSweep(lrs=list(lrs), histories=[])
    for lr in sweep.lrs:
        model = make_model()
        opt = optimizer(model.parameters(), lr=lr, **hyper)
        sweep.histories.append(fit(
            model, train_data, val_data, loss_fn=F.cross_entropy, optimizer=opt,
            num_epochs=num_epochs, batch_size=batch_size,
            generator=torch.Generator().manual_seed(seed)))
    return sweep
