"""Experiments of the chapter "Learning rates and adaptive methods": recording
every parameter along a training run (to compare optimizers step by step),
sweeping the learning rate, and training with learning-rate schedules."""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_number, check_positive_int
from introdl.optim import Optimizer
from introdl.schedules import Scheduler
from introdl.training import History, accuracy, fit

__all__ = ["parameter_trajectory", "LRSweep", "sweep_learning_rates",
           "scheduled_lrs", "ScheduleRuns", "compare_schedules"]


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


def scheduled_lrs(optimizer, scheduler, num_steps: int) -> list[float]:
    """The learning rate of the first parameter group at steps ``0, ...,
    num_steps - 1`` of ``scheduler`` (ours or ``torch.optim.lr_scheduler``'s),
    read with ``get_last_lr()``. Each step is an optimizer step on no gradient
    (which changes no weight) followed by ``scheduler.step()``."""
    lrs = []
    for _ in range(check_positive_int("num_steps", num_steps)):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()  # torch warns if a scheduler steps before its optimizer
        scheduler.step()
    return lrs


@dataclass
class ScheduleRuns:
    """Runs with a peak learning rate ``lr`` and several schedules:
    ``histories[name][k]`` is the run of schedule ``name`` from ``seeds[k]``,
    and ``lrs[name][t]`` the learning rate of its step ``t``."""

    lr: float
    seeds: list[int]
    histories: dict[str, list[History]]
    lrs: dict[str, list[float]]

    def mean_final(self, name: str, what: str = "val_loss") -> float:
        """The last epoch's ``what`` (a list of :class:`~introdl.training.History`, e.g.
        ``"val_metric"``), averaged over the seeds of schedule ``name``."""
        finals = [getattr(h, what)[-1] for h in self.histories[name]]
        return sum(finals) / len(finals)

    def mean_curve(self, name: str, what: str = "val_loss") -> list[float]:
        """``what`` per epoch, averaged over the seeds of schedule ``name``."""
        curves = [getattr(h, what) for h in self.histories[name]]
        return [sum(values) / len(values) for values in zip(*curves)]


def compare_schedules(make_model: Callable[[int], nn.Module],
                      train_data: tuple[torch.Tensor, torch.Tensor],
                      val_data: tuple[torch.Tensor, torch.Tensor],
                      optimizer: Callable[..., Optimizer], lr: float,
                      schedules: dict[str, Callable[[int], float] | None], *,
                      num_epochs: int, batch_size: int,
                      seeds: Iterable[int] = (0,), **hyper) -> ScheduleRuns:
    """Train ``make_model(seed)`` with cross-entropy for each schedule and seed.

    ``optimizer(params, lr=lr, **hyper)`` is stepped once per mini-batch, and
    so is a :class:`~introdl.schedules.Scheduler` with the schedule's factor
    (``None``: a constant learning rate). The seed also orders the
    mini-batches, so the runs of one seed differ only in their schedule.
    Accuracy is recorded as the metric.
    """
    check_number("lr", lr, low=0, low_open=True)
    n = len(train_data[0])
    num_steps = check_positive_int("num_epochs", num_epochs) * math.ceil(
        n / check_positive_int("batch_size", batch_size))
    runs = ScheduleRuns(lr, list(seeds), {}, {})
    if not runs.seeds:
        raise ValueError("seeds must hold at least one seed, got none")
    for name, factor in schedules.items():
        runs.lrs[name] = [lr * (1.0 if factor is None else factor(t))
                          for t in range(num_steps)]
        runs.histories[name] = []
        for seed in runs.seeds:
            model = make_model(seed)
            opt = optimizer(model.parameters(), lr=lr, **hyper)
            scheduler = None if factor is None else Scheduler(opt, factor)
            runs.histories[name].append(fit(
                model, train_data, val_data, loss_fn=F.cross_entropy,
                optimizer=opt, num_epochs=num_epochs, batch_size=batch_size,
                metric=accuracy, scheduler=scheduler,
                generator=torch.Generator().manual_seed(seed)))
    return runs
