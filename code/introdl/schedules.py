"""Learning-rate schedules and warm-up (chapter "Learning rates and adaptive
methods").

A schedule is a function of the step ``t`` (0, 1, 2, ...) that returns the
factor by which the base learning rate is multiplied at that step:
:func:`step_decay`, :func:`cosine_annealing`, :func:`linear_warmup` and
:func:`warmup_cosine`. :class:`Scheduler` applies one to an optimizer, ours
(:mod:`introdl.optim`, which keeps its rate in ``optimizer.lr``) or
``torch.optim``'s (which keeps one in each ``param_groups[i]["lr"]``), exactly
as ``torch.optim.lr_scheduler.LambdaLR`` does. With the same arguments the
rates equal those of ``StepLR``, ``CosineAnnealingLR``, ``LinearLR`` and
``SequentialLR`` (to rounding: PyTorch computes each rate from the previous
one, we compute it from ``t``), with one difference: after its last step our
cosine stays at its minimum, where ``CosineAnnealingLR`` rises again.
"""

import math
from collections.abc import Callable

from introdl.checks import check_number, check_positive_int

__all__ = ["step_decay", "cosine_annealing", "linear_warmup", "warmup_cosine",
           "Scheduler"]


def step_decay(t: int, step_size: int, gamma: float = 0.1) -> float:
    """The factor ``gamma ** (t // step_size)`` at step ``t >= 0``: the rate is
    multiplied by ``gamma`` every ``step_size`` steps (``torch``'s ``StepLR``)."""
    num_decays = check_positive_int("t", t, allow_zero=True) // check_positive_int(
        "step_size", step_size)
    return check_number("gamma", gamma, low=0, low_open=True) ** num_decays


def cosine_annealing(t: int, num_steps: int, min_factor: float = 0.0) -> float:
    """The factor at step ``t >= 0`` of half a cosine that falls from 1 at
    ``t = 0`` to ``min_factor`` at ``t = num_steps``, and stays there after
    (``CosineAnnealingLR`` with ``eta_min = min_factor * base_lr``)."""
    progress = min(check_positive_int("t", t, allow_zero=True),
                   check_positive_int("num_steps", num_steps)) / num_steps  # [0, 1]
    low = check_number("min_factor", min_factor, low=0, high=1)
    return low + (1 - low) * (1 + math.cos(math.pi * progress)) / 2


def linear_warmup(t: int, num_steps: int, start_factor: float = 1 / 3,
                  end_factor: float = 1.0) -> float:
    """The factor at step ``t >= 0`` of a straight line from ``start_factor``
    (in ``(0, 1]``) at ``t = 0`` to ``end_factor`` at ``t = num_steps``, and
    ``end_factor`` after (``LinearLR``, with its defaults)."""
    progress = min(check_positive_int("t", t, allow_zero=True),
                   check_positive_int("num_steps", num_steps)) / num_steps  # [0, 1]
    start = check_number("start_factor", start_factor, low=0, high=1, low_open=True)
    end = check_number("end_factor", end_factor, low=0, high=1)
    return start + (end - start) * progress


def warmup_cosine(t: int, warmup_steps: int, num_steps: int,
                  start_factor: float = 1 / 3, min_factor: float = 0.0) -> float:
    """Linear warm-up from ``start_factor`` to 1 over ``warmup_steps`` steps,
    then a cosine down to ``min_factor`` at ``t = num_steps`` (``SequentialLR``
    of ``LinearLR`` and ``CosineAnnealingLR``, milestone ``warmup_steps``).
    Raises ``ValueError`` unless ``0 < warmup_steps < num_steps``."""
    check_positive_int("num_steps", num_steps)
    check_number("warmup_steps", warmup_steps, low=1, high=num_steps, high_open=True)
    if check_positive_int("t", t, allow_zero=True) < warmup_steps:
        return linear_warmup(t, warmup_steps, start_factor)
    return cosine_annealing(t - warmup_steps, num_steps - warmup_steps, min_factor)


class Scheduler:
    """Set an optimizer's learning rate to ``base_lr * factor(t)`` at step ``t``:
    ``t = 0`` when created, and one more at each ``step()`` (call it after the
    optimizer's step). ``base_lr`` is the rate the optimizer had when the
    scheduler was created; ``factor`` is, e.g., ``lambda t: cosine_annealing(t,
    100)``. Works with our optimizers (``optimizer.lr``) and ``torch.optim``'s
    (``param_groups[i]["lr"]``), like ``torch.optim.lr_scheduler.LambdaLR``.

    Raises ``TypeError`` for a ``factor`` that is not callable or an optimizer
    with no learning rate, ``ValueError`` if a factor is negative or not finite.
    """

    def __init__(self, optimizer, factor: Callable[[int], float]):
        if not callable(factor):
            raise TypeError(f"factor must be callable, got {type(factor).__name__}")
        self.optimizer, self.factor, self.t = optimizer, factor, 0
        self.base_lrs = self.get_last_lr()  # TypeError for another kind of optimizer
        self.set_lrs()

    def get_last_lr(self) -> list[float]:
        """The optimizer's current learning rates, one per parameter group (the
        name ``torch.optim.lr_scheduler`` gives this method)."""
        if hasattr(self.optimizer, "param_groups"):  # torch.optim
            return [group["lr"] for group in self.optimizer.param_groups]
        if hasattr(self.optimizer, "lr"):  # introdl.optim: one rate for all tensors
            return [self.optimizer.lr]
        raise TypeError(f"optimizer must have param_groups or lr, got "
                        f"{type(self.optimizer).__name__}")

    def set_lrs(self) -> None:
        """Set every learning rate to its base rate times ``factor(t)``."""
        factor = check_number(f"factor({self.t})", self.factor(self.t), low=0,
                              high=math.inf, high_open=True)  # finite, >= 0
        lrs = [base_lr * factor for base_lr in self.base_lrs]
        if hasattr(self.optimizer, "param_groups"):
            for group, lr in zip(self.optimizer.param_groups, lrs):
                group["lr"] = lr
        else:
            self.optimizer.lr = lrs[0]

    def step(self) -> None:
        """Move to the next step and set its learning rates."""
        self.t += 1
        self.set_lrs()
