"""Regularization from scratch: inverted dropout, early stopping, label noise.

:func:`dropout` and the module :class:`Dropout` behave like
``torch.nn.functional.dropout`` and ``torch.nn.Dropout``; :class:`EarlyStopping`
plugs into :func:`introdl.training.fit`; :func:`corrupt_labels` makes a data set
noisy on purpose. The chapter's experiments are in
:mod:`introdl.experiments.regularization`, its figures in
:mod:`introdl.figures.regularization`.
"""

import math

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_tensor

__all__ = ["dropout_mask", "apply_dropout_mask", "dropout", "Dropout",
           "EarlyStopping", "replay_early_stopping", "corrupt_labels"]


def dropout_mask(x: torch.Tensor, p: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """A random keep-mask of ``x``'s shape, dtype and device: each entry is 1
    (keep) with probability ``1 - p`` and 0 (drop) with probability ``p``."""
    check_number("p", p, low=0, high=1)
    keep = torch.empty_like(x)  # (...,) of x's shape, dtype and device
    return keep.bernoulli_(1 - p, generator=generator)  # 1 with probability 1 - p


def apply_dropout_mask(x: torch.Tensor, mask: torch.Tensor,
                       p: float) -> torch.Tensor:
    """Zero the entries of ``x`` where ``mask`` is 0 and divide the others by
    ``1 - p``, so that the expected output is ``x`` (inverted dropout). With
    ``p = 1`` nothing is kept: all zeros. Raises ``ValueError`` if ``mask`` does
    not have ``x``'s shape."""
    check_tensor("x", x, floating=True)
    check_number("p", p, low=0, high=1)
    mask = torch.as_tensor(mask, dtype=x.dtype, device=x.device)  # 0s and 1s
    if mask.shape != x.shape:
        raise ValueError(f"mask shape {list(mask.shape)} is not x's {list(x.shape)}")
    if p == 1:  # nothing is kept (and 1 / (1 - p) is undefined)
        return x * 0.0
    scale = mask / (1 - p)  # 0 where dropped, 1 / (1 - p) where kept
    return x * scale


def dropout(x: torch.Tensor, p: float, training: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout of ``x`` (any shape): zero each entry with probability
    ``p`` and scale the others by ``1 / (1 - p)``. Returns ``x`` itself if not
    ``training`` or ``p = 0``. ``generator`` draws the mask reproducibly
    (``None``: PyTorch's global generator). Raises ``ValueError`` for ``p``
    outside ``[0, 1]``."""
    check_tensor("x", x, floating=True)
    check_number("p", p, low=0, high=1)
    if not training or p == 0:
        return x
    return apply_dropout_mask(x, dropout_mask(x, p, generator), p)


class Dropout(nn.Module):
    """:func:`dropout` as a layer without parameters: active in ``train()`` mode,
    the identity in ``eval()`` mode, like ``torch.nn.Dropout``."""

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None):
        super().__init__()
        self.p = check_number("p", p, low=0, high=1)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of any shape, with dropout if the module is training."""
        return dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class EarlyStopping:
    """Stop training when the validation loss stops improving; keep the best state.

    Call :meth:`step` once per epoch with the validation loss. An epoch improves
    if its loss is below ``best - min_delta`` (NaN never does); after
    ``max(patience, 1)`` epochs in a row without improvement, ``step`` says stop
    (patience 0 behaves like 1, as in Keras). :meth:`reset` forgets a run, and
    :func:`~introdl.training.fit` calls it at the start of every run.
    Attributes: ``best``, ``best_epoch`` and ``best_state`` (a copy of the
    state passed with ``best``; ``None`` before the first improvement),
    ``stopped_epoch``, ``num_bad_epochs``.
    """

    def __init__(self, patience: int, min_delta: float = 0.0):
        self.patience = check_positive_int("patience", patience, allow_zero=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.reset()

    def reset(self) -> None:
        """Forget everything seen, ready for a new run."""
        self.best, self.epoch, self.num_bad_epochs = math.inf, -1, 0
        self.best_epoch = self.best_state = self.stopped_epoch = None

    def step(self, value: float, state: dict | None = None) -> bool:
        """Record one epoch's ``value`` (a number or one-element tensor); return
        True if training should stop. ``state`` (e.g. ``model.state_dict()``) is
        copied when the epoch improves, so later training cannot change it."""
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"value must be a real number, got {type(value).__name__}")
        value = float(value)
        self.epoch += 1
        if value < self.best - self.min_delta:  # an improvement (never for NaN)
            self.best, self.best_epoch, self.num_bad_epochs = value, self.epoch, 0
            self.best_state = None if state is None else {
                name: t.detach().clone() for name, t in state.items()}
            return False
        self.num_bad_epochs += 1
        if self.num_bad_epochs < max(self.patience, 1):
            return False
        self.stopped_epoch = self.epoch
        return True


def replay_early_stopping(values, patience: int,
                          min_delta: float = 0.0) -> EarlyStopping:
    """Feed recorded per-epoch ``values`` to a fresh :class:`EarlyStopping`
    until it says stop; return it (its ``best_epoch`` and ``stopped_epoch``
    tell where a run with this patience would have stopped)."""
    stopper = EarlyStopping(patience, min_delta)
    for value in values:
        if stopper.step(value):
            break
    return stopper


def corrupt_labels(y: torch.Tensor, fraction: float, num_classes: int = 10,
                   seed: int = 0) -> torch.Tensor:
    """A copy of the class labels ``y`` ``(n,)`` in which a random share
    ``fraction`` of the entries is replaced by a different, random class
    (label noise, as in a data set with annotation mistakes)."""
    check_tensor("y", y)
    check_number("fraction", fraction, low=0, high=1)
    if check_positive_int("num_classes", num_classes) < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    wrong = torch.rand(y.shape, generator=g) < fraction  # (n,) the labels to change
    shift = torch.randint(1, num_classes, y.shape, generator=g)  # (n,) by 1..C-1
    noisy = (y + shift.to(y.device)) % num_classes  # (n,) always another class
    return torch.where(wrong.to(y.device), noisy, y)
