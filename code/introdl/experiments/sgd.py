"""Stochastic and mini-batch gradient descent, measured (chapter "Stochastic
gradient descent").

* :func:`per_example_gradients` and :func:`minibatch_gradient_variance`
  measure how noisy a mini-batch gradient is, as a function of the batch size.
* :func:`timed_training` records the loss against epochs and wall-clock time.
* :func:`batch_size_lr_sweep` trains with several batch sizes and learning
  rates.

Training always goes through the book's loop :func:`introdl.training.fit`.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import torch

from introdl.checks import check_ndim, check_positive_int, check_tensor
from introdl.figures.style import LINESTYLES, PALETTE, new_figure

__all__ = ["per_example_gradients", "minibatch_gradient_variance",
           "plot_gradient_variance", "timed_training", "plot_loss_vs_epochs_and_time",
           "batch_size_lr_sweep", "plot_batch_size_lr_sweep"]


def per_example_gradients(model: torch.nn.Module, loss_fn: Callable,
                          X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The gradient of the loss on each example separately.

    Args:
        model: maps a batch ``(m, d)`` to outputs; ``loss_fn(output, y)`` is
            a mean over the batch.
        X: ``(n, d)`` inputs; y: ``(n,)`` targets.
    Returns:
        ``(n, P)``: row ``i`` is the gradient, flattened over all ``P``
        parameters, of the loss on example ``i`` alone. Their mean over the
        rows is the full-batch gradient.
    """
    params = list(model.parameters())
    rows = []
    for i in range(len(X)):  # one small backward pass per example
        loss = loss_fn(model(X[i:i + 1]), y[i:i + 1])
        grads = torch.autograd.grad(loss, params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))  # (P,)
    return torch.stack(rows)  # (n, P)


def minibatch_gradient_variance(G: torch.Tensor, batch_sizes: Sequence[int],
                                num_draws: int = 200,
                                generator: torch.Generator | None = None):
    """Measure how far mini-batch gradients fall from the full gradient.

    For each batch size ``B``, draw ``num_draws`` mini-batches of ``B``
    distinct examples at random (without replacement, as an epoch does),
    average their per-example gradients and record the mean squared distance
    ``E ||g_B - g||^2`` to the full-batch gradient ``g``.

    Args:
        G: per-example gradients ``(n, P)`` (:func:`per_example_gradients`).
        batch_sizes: each between 1 and ``n``.
    Returns:
        A float64 tensor ``(len(batch_sizes),)`` of measured variances.
    Raises:
        ValueError: if a batch size is outside ``[1, n]``.
    """
    check_tensor("G", G, floating=True)
    check_ndim("G", G, (2,))
    check_positive_int("num_draws", num_draws)
    n = G.shape[0]
    G = G.to(torch.float64)
    g = G.mean(dim=0)  # (P,) full-batch gradient
    out = []
    for B in batch_sizes:
        check_positive_int("batch size", B)
        if B > n:
            raise ValueError(f"batch size must be at most n={n}, got {B}")
        ranks = torch.rand(num_draws, n, generator=generator).argsort(dim=1)
        S = (ranks < B).to(torch.float64) / B  # (draws, n): 1/B on the chosen rows
        g_B = S @ G  # (draws, P) mini-batch gradients
        out.append(((g_B - g) ** 2).sum(dim=1).mean().item())
    return torch.tensor(out, dtype=torch.float64)


def plot_gradient_variance(batch_sizes, variances, sigma2: float, n: int, *,
                           ax=None):
    """Log-log plot of measured mini-batch gradient variance against ``B``.

    Adds the reference ``sigma2 / B`` (sampling with replacement) and the exact
    value without replacement, ``sigma2 / B * (n - B) / (n - 1)``, where
    ``sigma2`` is the variance of a single example's gradient. Returns the
    ``Figure``.
    """
    fig, ax = new_figure(width=5.0, height=3.4) if ax is None else (ax.figure, ax)
    B = torch.as_tensor(batch_sizes, dtype=torch.float64)
    ax.loglog(B, variances, "o", color=PALETTE[0], markersize=7,
              label="measured (200 mini-batches each)")
    ax.loglog(B, sigma2 / B, color="gray", linestyle="--",
              label=r"reference $\sigma^2 / B$")
    ax.loglog(B, sigma2 / B * (n - B) / (n - 1), color=PALETTE[1], linestyle=":",
              label=r"$\sigma^2 / B \cdot (n - B)/(n - 1)$")
    ax.set(xlabel="batch size $B$",
           ylabel=r"$E\,\|g_B - \nabla J\|^2$")
    ax.set_xticks(B.tolist(), labels=[f"{int(b)}" for b in B.tolist()])
    ax.minorticks_off()
    ax.legend(loc="lower left")
    return fig


def timed_training(make_model: Callable[[], torch.nn.Module], train_data, *,
                   optimizer: Callable, batch_size: int | None, lr: float,
                   num_epochs: int, evals_per_epoch: int = 1, seed: int = 0) -> dict:
    """Train with :func:`introdl.training.fit`, timing it and recording the loss.

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
        ``{"epoch": [...], "time": [...], "loss": [...]}`` with
        ``num_epochs * evals_per_epoch + 1`` entries each, starting at epoch 0,
        time 0; epochs are fractional within an epoch.
    """
    from introdl.training import evaluate, fit

    check_positive_int("num_epochs", num_epochs)
    check_positive_int("evals_per_epoch", evals_per_epoch)
    if batch_size is None and evals_per_epoch != 1:
        raise ValueError("evals_per_epoch must be 1 for full-batch training, got "
                         f"{evals_per_epoch}")
    loss_fn = torch.nn.functional.cross_entropy
    X, y = train_data
    model = make_model()
    opt = optimizer(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    record = {"epoch": [0.0], "time": [0.0],
              "loss": [evaluate(model, train_data, loss_fn)[0]]}
    for epoch in range(num_epochs):
        order = torch.randperm(len(X), generator=generator)
        for k, idx in enumerate(order.tensor_split(evals_per_epoch)):
            start = time.perf_counter()
            fit(model, (X[idx], y[idx]), loss_fn=loss_fn, optimizer=opt, num_epochs=1,
                batch_size=batch_size, generator=generator)
            record["time"].append(record["time"][-1] + time.perf_counter() - start)
            record["epoch"].append(epoch + (k + 1) / evals_per_epoch)
            record["loss"].append(evaluate(model, train_data, loss_fn)[0])
    return record


def plot_loss_vs_epochs_and_time(runs: dict):
    """Two panels: training loss against epochs and against seconds.

    Args:
        runs: label -> the dict :func:`timed_training` returns.
    Returns:
        The ``Figure``.
    """
    fig, (ax_e, ax_t) = new_figure(ncols=2, height=3.2, sharey=True)
    for i, (label, r) in enumerate(runs.items()):
        style = dict(color=PALETTE[i], linestyle=LINESTYLES[i], marker="o",
                     markersize=3, label=label)
        ax_e.plot(r["epoch"], r["loss"], **style)
        ax_t.plot(r["time"], r["loss"], **style)
    ax_e.set(xlabel="epoch", ylabel="training loss", yscale="log",
             title="per pass over the data")
    ax_t.set(xlabel="wall-clock time (s)", title="per second")
    ax_t.legend()
    return fig


def batch_size_lr_sweep(make_model: Callable[[], torch.nn.Module], train_data, *,
                        optimizer: Callable, batch_sizes: Sequence[int],
                        lrs: Sequence[float], num_steps: int,
                        seed: int = 0) -> dict:
    """Final training loss for every pair (batch size, learning rate).

    Every run starts from ``make_model()`` and trains with
    :func:`introdl.training.fit` for the whole number of epochs closest to
    ``num_steps`` steps (at least one epoch), so runs with different batch
    sizes take about the same number of steps; a larger batch makes each step
    less noisy (and sees more data).

    Returns:
        ``{B: {lr: loss}}``: the loss on the whole training set after
        training, ``inf`` if it is not finite (the run diverged).
    """
    from introdl.training import evaluate, fit

    check_positive_int("num_steps", num_steps)
    loss_fn = torch.nn.functional.cross_entropy
    n = len(train_data[0])
    results = {}
    for B in batch_sizes:
        check_positive_int("batch size", B)
        steps_per_epoch = math.ceil(n / B)
        num_epochs = max(1, round(num_steps / steps_per_epoch))
        results[B] = {}
        for lr in lrs:
            model = make_model()
            fit(model, train_data, loss_fn=loss_fn,
                optimizer=optimizer(model.parameters(), lr=lr),
                num_epochs=num_epochs, batch_size=B,
                generator=torch.Generator().manual_seed(seed))
            loss = evaluate(model, train_data, loss_fn)[0]
            results[B][lr] = loss if math.isfinite(loss) else math.inf
    return results


def plot_batch_size_lr_sweep(results: dict, *, cap: float = 3.0, ax=None,
                             ylabel: str = "final training loss"):
    """Final loss against the learning rate, one curve per batch size; losses
    above ``cap`` (including diverged runs) are drawn at ``cap``. Returns the
    ``Figure``."""
    fig, ax = new_figure(width=5.0, height=3.4) if ax is None else (ax.figure, ax)
    markers = ["o", "s", "^", "D", "v"]
    for i, (B, by_lr) in enumerate(results.items()):
        lrs = list(by_lr)
        losses = [min(v, cap) for v in by_lr.values()]
        ax.plot(lrs, losses, color=PALETTE[i], linestyle=LINESTYLES[i],
                marker=markers[i % len(markers)], label=f"B = {B}")
    ax.axhline(cap, color="gray", linewidth=0.8, linestyle=":")
    ax.set(xscale="log", xlabel=r"learning rate $\eta$",
           ylabel=ylabel, ylim=(0, cap * 1.05))
    ax.legend()
    return fig
