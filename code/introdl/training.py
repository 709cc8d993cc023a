"""The book's one training loop, used by every chapter that trains a model.

:func:`fit` runs mini-batch training for a number of epochs and returns a
:class:`History`. It optionally stops early (any object with the
:class:`~introdl.regularization.EarlyStopping` interface) and clips gradients
by their global norm (:func:`clip_grad_norm`).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch

from introdl.checks import check_number, check_positive_int

__all__ = ["History", "fit", "evaluate", "accuracy", "iterate_minibatches",
           "clip_grad_norm", "eval_mode", "one_thread", "parameter_count"]


@dataclass
class History:
    """What a training run produced, epoch by epoch (epochs count from 0).

    ``train_loss[e]`` is the mean loss over epoch ``e``'s mini-batches (as
    the model changed during the epoch); ``val_loss[e]`` and the metrics are
    measured after epoch ``e``. ``best_epoch`` is the epoch of lowest
    validation loss, ``stopped_epoch`` the epoch where early stopping ended
    the run (``None`` if it ran to the end).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None

    @property
    def num_epochs(self) -> int:
        return len(self.train_loss)


@contextmanager
def eval_mode(model: torch.nn.Module):
    """Put ``model`` in evaluation mode for the block, then restore its mode,
    even if the block raises."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextmanager
def one_thread():
    """Run the block on one CPU thread, then restore the thread count.

    The book's models are tiny; for such small matrix products a second
    thread costs more than it gives, and far more when other programs share
    the CPU. This is the one place the package sets threads.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def parameter_count(module: torch.nn.Module) -> int:
    """Number of scalar parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows of ``logits`` ``(n, C)`` whose arg-max equals ``y`` ``(n,)``."""
    if logits.ndim != 2 or y.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (n, C) and y (n,), got "
                         f"{tuple(logits.shape)} and {tuple(y.shape)}")
    return (logits.argmax(dim=1) == y).float().mean().item()


def iterate_minibatches(n: int, batch_size: int | None,
                        generator: torch.Generator | None = None,
                        shuffle: bool = True) -> Iterable[torch.Tensor]:
    """Yield index tensors that split ``range(n)`` into mini-batches.

    ``batch_size=None`` gives one full batch. With ``shuffle`` the order is
    a permutation drawn from ``generator``; the last batch may be smaller.
    """
    check_positive_int("n", n)
    if batch_size is None:
        batch_size = n
    check_positive_int("batch_size", batch_size)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    yield from order.split(batch_size)


def clip_grad_norm(parameters, max_norm: float) -> torch.Tensor:
    """Scale gradients in place so that their global L2 norm is at most
    ``max_norm``; return the norm before clipping.

    The global norm is ``sqrt(sum of squared entries of every gradient)``. If
    it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / (norm + 1e-6)``, exactly as ``torch.nn.utils.clip_grad_norm_``
    does, so the direction of the update is kept and only its length shrinks.
    """
    check_number("max_norm", max_norm, low=0, low_open=True)
    if isinstance(parameters, torch.Tensor):  # one tensor, as torch also accepts
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norm = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    return norm


@torch.no_grad()
def evaluate(model: torch.nn.Module, data, loss_fn: Callable,
             metric: Callable | None = None) -> tuple[float, float | None]:
    """Loss (and metric) of ``model`` on ``data = (X, y)`` in evaluation mode.

    The model's training/evaluation mode is restored afterwards.
    """
    X, y = data
    with eval_mode(model):  # restores the mode even if the model or the loss raises
        out = model(X)
        loss = loss_fn(out, y).item()
        value = metric(out, y) if metric is not None else None
    return loss, value


def _check_data(name, data):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name} must be a pair (X, y) of tensors, got "
                        f"{type(data).__name__}")
    X, y = data
    if len(X) != len(y):
        raise ValueError(f"{name}: X has {len(X)} rows but y has {len(y)}")


def fit(model: torch.nn.Module, train_data, val_data=None, *, loss_fn: Callable,
        optimizer, num_epochs: int, batch_size: int | None = None,
        metric: Callable | None = None, early_stopping=None,
        restore_best: bool = False, clip_norm: float | None = None,
        generator: torch.Generator | None = None,
        progress: bool | None = None) -> History:
    """Train ``model`` and return its :class:`History`.

    Args:
        model: maps a batch ``X`` to the output ``loss_fn`` expects.
        train_data, val_data: pairs ``(X, y)`` of tensors with equal length.
        loss_fn: ``loss_fn(output, y)`` returns a scalar tensor.
        optimizer: anything with ``zero_grad()`` and ``step()`` (``torch.optim``
            or :mod:`introdl.optim`).
        num_epochs: passes over the training data.
        batch_size: mini-batch size; ``None`` means full-batch gradient descent.
        metric: ``metric(output, y)`` returns a float, e.g. :func:`accuracy`.
        early_stopping: an object with ``step(value, state) -> bool`` (True
            means stop) and a ``best_state`` attribute, such as
            :class:`introdl.regularization.EarlyStopping`. Needs ``val_data``.
        restore_best: after training, load the state with the lowest
            validation loss (kept by ``early_stopping``) into ``model``.
        clip_norm: if set, clip the gradients' global norm (:func:`clip_grad_norm`).
        generator: shuffles the mini-batches reproducibly.
        progress: show a progress bar; ``None`` shows one only in a terminal
            (never in the book build).
    """
    check_positive_int("num_epochs", num_epochs)
    _check_data("train_data", train_data)
    if val_data is not None:
        _check_data("val_data", val_data)
    if early_stopping is not None and val_data is None:
        raise ValueError("early_stopping needs val_data to monitor")
    if restore_best and early_stopping is None:
        raise ValueError("restore_best needs an early_stopping object that keeps "
                         "the best state")
    X, y = train_data
    history = History()
    epochs = range(num_epochs)
    if progress or (progress is None and sys.stderr.isatty()):
        from tqdm import tqdm
        epochs = tqdm(epochs, desc="epochs", leave=False)
    for epoch in epochs:
        model.train()
        total, count, norms = 0.0, 0, []
        for idx in iterate_minibatches(len(X), batch_size, generator):
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            if clip_norm is not None:
                norms.append(clip_grad_norm(model.parameters(), clip_norm).item())
            optimizer.step()
            total, count = total + loss.item() * len(idx), count + len(idx)
        history.train_loss.append(total / count)
        if norms:
            history.grad_norm.append(max(norms))
        if metric is not None:
            history.train_metric.append(evaluate(model, train_data, loss_fn, metric)[1])
        if val_data is None:
            continue
        val_loss, val_metric = evaluate(model, val_data, loss_fn, metric)
        history.val_loss.append(val_loss)
        if metric is not None:
            history.val_metric.append(val_metric)
        if early_stopping is not None and early_stopping.step(val_loss,
                                                             model.state_dict()):
            history.stopped_epoch = epoch
            break
    if early_stopping is not None:
        history.best_epoch = early_stopping.best_epoch
    elif history.val_loss:
        history.best_epoch = min(range(len(history.val_loss)),
                                 key=history.val_loss.__getitem__)
    if restore_best:
        model.load_state_dict(early_stopping.best_state)
    return history
