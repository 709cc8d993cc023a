"""The book's one training loop, used by every chapter that trains a model.

:func:`fit` trains a model epoch by epoch (:func:`train_epoch`), measures it
after each epoch (:func:`evaluate`) and returns a :class:`History`. It can stop
early (with an object such as :class:`~introdl.regularization.EarlyStopping`)
and clip gradients by their global norm (:func:`clip_grad_norm`). The module
also holds the small tools around it: :class:`eval_mode`, :class:`one_thread`,
:func:`parameter_count` and :func:`per_example_gradients`.
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.optim import check_params

__all__ = ["History", "fit", "train_epoch", "evaluate", "check_data", "accuracy",
           "iterate_minibatches", "clip_grad_norm", "eval_mode", "one_thread",
           "parameter_count", "per_example_gradients"]


@dataclass
class History:
    """What a training run produced, epoch by epoch (epochs count from 0).

    ``train_loss[e]`` is the mean loss over epoch ``e``'s mini-batches (as the
    model changed); ``val_loss[e]`` and the metrics are measured after epoch
    ``e``; ``grad_norm[e]`` is its largest gradient norm before clipping.
    ``best_epoch`` has the lowest validation loss, ``stopped_epoch`` is where
    early stopping ended the run and ``diverged_epoch`` the first epoch whose
    training loss was not finite (each ``None`` if there is none).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    diverged_epoch: int | None = None

    @property
    def num_epochs(self) -> int:
        """The number of epochs trained."""
        return len(self.train_loss)

    def add(self, **values: float | None) -> None:
        """Append one epoch's numbers, e.g. ``add(train_loss=0.3, val_loss=None)``;
        ``None`` means not measured and is skipped."""
        for name, value in values.items():
            if value is not None:
                getattr(self, name).append(value)


class eval_mode:
    """``with eval_mode(model):`` runs the block with ``model`` in evaluation
    mode, then restores the mode it had, even if the block raises."""

    def __init__(self, model: nn.Module):
        self.model = model

    def __enter__(self) -> nn.Module:
        if not isinstance(self.model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(self.model)}")
        self.was_training = self.model.training
        self.model.eval()
        return self.model

    def __exit__(self, *exc_info) -> None:
        self.model.train(self.was_training)


def check_data(name: str, data) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``data`` as ``(X, y)``: two tensors with the same number of rows,
    at least one; raise ``TypeError``/``ValueError`` naming ``name`` otherwise."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name} must be a pair (X, y) of tensors, got "
                        f"{type(data).__name__}")
    X, y = check_tensor(f"{name}[0]", data[0]), check_tensor(f"{name}[1]", data[1])
    if X.ndim == 0 or X.shape[:1] != y.shape[:1] or len(X) == 0:
        raise ValueError(f"{name} must be X, y with the same number (> 0) of rows, "
                         f"got shapes {tuple(X.shape)} and {tuple(y.shape)}")
    return X, y


@torch.no_grad()
def evaluate(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor],
             loss_fn: Callable, metric: Callable | None = None,
             ) -> tuple[float, float | None]:
    """Loss and metric (``None`` without one) of ``model`` on ``data = (X, y)``,
    measured in evaluation mode; the model's mode is restored afterwards."""
    X, y = check_data("data", data)
    with eval_mode(model):
        out = model(X)
        loss = loss_fn(out, y).item()
        return loss, None if metric is None else metric(out, y)


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """The share of rows of ``logits`` ``(n, C)`` whose arg-max is the class
    ``y`` ``(n,)``; NaN for ``n = 0``, like a mean over nothing."""
    logits = torch.as_tensor(logits)
    y = torch.as_tensor(y, device=logits.device)
    if logits.ndim != 2 or logits.shape[1] == 0 or y.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (n, C) with C > 0 and y (n,), got "
                         f"{tuple(logits.shape)} and {tuple(y.shape)}")
    correct = logits.argmax(dim=1) == y  # (n,)
    return correct.float().mean().item()


def iterate_minibatches(n: int, batch_size: int | None,
                        generator: torch.Generator | None = None,
                        shuffle: bool = True) -> Iterable[torch.Tensor]:
    """Yield index tensors that split ``range(n)`` into mini-batches.

    ``batch_size=None`` (or ``>= n``) gives one full batch, in order: shuffling
    it would change nothing but the rounding of its sums. Otherwise, with
    ``shuffle``, the order is a permutation drawn from ``generator``; the last
    batch may be smaller.
    """
    check_positive_int("n", n)
    batch_size = n if batch_size is None else check_positive_int("batch_size",
                                                                 batch_size)
    if shuffle and batch_size < n:
        yield from torch.randperm(n, generator=generator).split(batch_size)
    else:
        yield from torch.arange(n).split(batch_size)


def clip_grad_norm(parameters: Iterable[torch.Tensor] | torch.Tensor,
                   max_norm: float) -> torch.Tensor:
    """Scale the gradients in place so that their global L2 norm is at most
    ``max_norm``; return the norm before clipping (0 if no tensor has a gradient).

    The same rule as ``torch.nn.utils.clip_grad_norm_`` (a NaN or infinite norm
    spoils the gradients there too), but an empty ``parameters``, such as a
    ``model.parameters()`` already used up, raises ``ValueError`` where torch
    only warns: clipping nothing is never what was meant.
    """
    check_number("max_norm", max_norm, low=0, low_open=True)
    if isinstance(parameters, torch.Tensor):  # one tensor, as torch also accepts
        parameters = [parameters]
    params = check_params("parameters", parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros((), device=params[0].device)
    norms = torch.stack([torch.linalg.vector_norm(g) for g in grads])  # (k,)
    norm = torch.linalg.vector_norm(norms)  # sqrt of the sum of all squares
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    return norm


def train_epoch(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor],
                loss_fn: Callable, optimizer, batch_size: int | None = None,
                clip_norm: float | None = None,
                generator: torch.Generator | None = None, scheduler=None,
                ) -> tuple[float, float | None]:
    """One pass over ``data = (X, y)`` in shuffled mini-batches, in training mode.

    ``scheduler.step()``, if given, follows every optimizer step. Returns the
    mean loss over the examples and the largest gradient norm before clipping
    (``None`` without ``clip_norm``).
    """
    X, y = check_data("data", data)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    model.train()
    total, norms = 0.0, []
    for idx in iterate_minibatches(len(X), batch_size, generator):
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        if loss.numel() != 1:
            raise ValueError(f"loss_fn must return one number, got {tuple(loss.shape)}")
        loss.backward()
        if clip_norm is not None:
            norms.append(clip_grad_norm(model.parameters(), clip_norm).item())
        optimizer.step()
        if scheduler is not None:
            scheduler.step()  # the learning rate of the next step
        total += loss.item() * len(idx)
    return total / len(X), max(norms, default=None)


def fit(model: nn.Module, train_data: tuple[torch.Tensor, torch.Tensor],
        val_data: tuple[torch.Tensor, torch.Tensor] | None = None, *,
        loss_fn: Callable, optimizer, num_epochs: int,
        batch_size: int | None = None, metric: Callable | None = None,
        early_stopping=None, restore_best: bool = False,
        clip_norm: float | None = None, generator: torch.Generator | None = None,
        scheduler=None, progress: bool = False) -> History:
    """Train ``model`` for ``num_epochs`` epochs; return its :class:`History`.

    ``optimizer`` has ``zero_grad()`` and ``step()``; ``metric(output, y)`` is a
    float, e.g. :func:`accuracy`. ``early_stopping`` (e.g. an
    :class:`~introdl.regularization.EarlyStopping`) is ``reset()`` first if it
    can be, then told ``step(val_loss, model.state_dict())`` after each epoch;
    True stops the run. ``restore_best`` then loads its ``best_state``, or, if
    no epoch improved, the starting weights (Keras keeps the first epoch's,
    which may already be NaN). A training loss that is not finite is recorded
    in ``diverged_epoch``; the run goes on, as in PyTorch and Keras.
    ``scheduler`` (e.g. a :class:`~introdl.schedules.Scheduler`) is stepped
    after every optimizer step. ``progress`` prints each epoch's training loss.
    """
    check_positive_int("num_epochs", num_epochs)
    check_data("train_data", train_data)
    if val_data is not None:
        check_data("val_data", val_data)
    if early_stopping is not None and val_data is None:
        raise ValueError("early_stopping needs val_data to monitor")
    if restore_best and early_stopping is None:
        raise ValueError("restore_best needs early_stopping (it keeps the best state)")
    if hasattr(early_stopping, "reset"):
        early_stopping.reset()  # a fresh start for every run
    if restore_best:  # the fallback if no epoch improves
        start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    history = History()
    for epoch in range(num_epochs):
        loss, norm = train_epoch(model, train_data, loss_fn, optimizer, batch_size,
                                 clip_norm, generator, scheduler)
        history.add(train_loss=loss, grad_norm=norm)
        if metric is not None:
            history.add(train_metric=evaluate(model, train_data, loss_fn, metric)[1])
        if val_data is not None:
            val_loss, val_metric = evaluate(model, val_data, loss_fn, metric)
            history.add(val_loss=val_loss, val_metric=val_metric)
        if not math.isfinite(loss) and history.diverged_epoch is None:
            history.diverged_epoch = epoch
        if progress:
            print(f"epoch {epoch}: training loss {loss:.4g}")
        stop = early_stopping is not None and early_stopping.step(
            val_loss, model.state_dict())  # True: stop now
        if stop:
            history.stopped_epoch = epoch
            break
    if early_stopping is not None:
        history.best_epoch = early_stopping.best_epoch
    else:  # the lowest finite validation loss, if any
        finite = [e for e, v in enumerate(history.val_loss) if math.isfinite(v)]
        history.best_epoch = min(finite, key=history.val_loss.__getitem__, default=None)
    if restore_best:
        best = early_stopping.best_state
        model.load_state_dict(start if best is None else best)
    return history


class one_thread:
    """``with one_thread():`` runs the block on one CPU thread, then restores
    the thread count.

    The book's models are tiny; for such small matrix products a second thread
    costs more than it gives, and far more when other programs share the CPU.
    This is the one place the package sets threads.
    """

    def __enter__(self) -> None:
        self.before = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc_info) -> None:
        torch.set_num_threads(self.before)


def parameter_count(module: nn.Module) -> int:
    """The number of scalar parameters of ``module`` (shared ones counted once)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    tensors = module.parameters()  # a tensor that two layers share comes once
    sizes = [t.numel() for t in tensors]  # the number of scalars in each
    return sum(sizes)


def per_example_gradients(model: nn.Module, loss_fn: Callable, X: torch.Tensor,
                          y: torch.Tensor) -> torch.Tensor:
    """The gradient of the loss on each example separately.

    ``loss_fn(model(X[i:i+1]), y[i:i+1])`` is the loss on example ``i``.
    Returns ``(n, P)``: row ``i`` is its gradient, flattened over the ``P``
    parameters that require a gradient (zeros for one the loss does not use).
    The mean of the rows is the full-batch gradient of a mean loss.
    """
    X, y = check_data("(X, y)", (X, y))
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(len(X)):  # one small backward pass per example
        loss = loss_fn(model(X[i:i + 1]), y[i:i + 1])
        grads = torch.autograd.grad(loss, params, allow_unused=True,
                                    materialize_grads=True)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))  # (P,)
    return torch.stack(rows)  # (n, P)
