"""Figures of the chapter "Quantifying loss"."""

from collections.abc import Mapping, Sequence

import torch

from introdl.figures.style import LINESTYLES, PALETTE, new_figure, plot_curves
from introdl.losses import mse

__all__ = ["plot_bce", "plot_mse", "plot_empirical_loss"]


def _pair(axes, **size):
    """The two axes to draw on: ``axes``, or a new figure's."""
    if axes is None:
        return new_figure(ncols=2, **size)[1]
    if len(axes) != 2:
        raise ValueError(f"axes must be a pair of axes, got {len(axes)}")
    return axes


def plot_bce(*, axes=None):
    """Binary cross-entropy of one prediction ``p`` for label 1 and label 0
    (left); for label 1, cross-entropy beside the squared error ``(1 - p)**2``
    (right). ``axes``: a pair to draw on, or ``None``. Returns the ``Figure``."""
    ax_l, ax_r = _pair(axes, height=2.9)
    p = torch.linspace(0.002, 0.998, 499, dtype=torch.float64)
    ax_l.plot(p, -torch.log(p), label="label $y = 1$: $-\\log p$")
    ax_l.plot(p, -torch.log(1 - p), label="label $y = 0$: $-\\log(1 - p)$")
    ax_l.set(xlabel="predicted probability of class 1, $p$", ylabel="loss",
             ylim=(0, 5), title="cross-entropy for each label")
    ax_l.legend(loc="upper center")
    ax_r.plot(p, -torch.log(p), label="cross-entropy")
    ax_r.plot(p, (1 - p) ** 2, label="squared error", color="C2", linestyle=":")
    ax_r.set(xlabel="predicted probability of class 1, $p$", ylabel="loss",
             ylim=(0, 5), title="label $y = 1$: two losses")
    ax_r.legend(loc="upper right")
    return ax_l.figure


def plot_mse(x: torch.Tensor, y: torch.Tensor, slope: float, *, axes=None):
    """A line ``y_hat = slope * x`` through data with its errors drawn (left)
    and the mean squared error as a function of the slope (right).

    Args:
        x, y: ``(n,)`` inputs and real-valued targets; slope: the line shown.
        axes: a pair of axes to draw on; a new figure if ``None``.
    Returns:
        The ``Figure``.
    """
    ax_l, ax_r = _pair(axes, height=2.9)
    y_hat = slope * x  # (n,)
    ax_l.vlines(x, y, y_hat, color=PALETTE[1], linewidth=1.2, label="errors")
    ax_l.scatter(x, y, s=18, color=PALETTE[0], zorder=3, label="data $(x, y)$")
    grid = torch.linspace(float(x.min()), float(x.max()), 2)
    ax_l.plot(grid, slope * grid, color="black",
              label=rf"$\hat y = w x$, $w = {slope:g}$")
    ax_l.set(xlabel="input $x$", ylabel="target $y$", title="prediction and errors")
    ax_l.legend(loc="upper left")
    slopes = torch.linspace(slope - 2, slope + 2, 201, dtype=torch.float64)
    losses = ((slopes[:, None] * x.double() - y.double()) ** 2).mean(1)  # (201,)
    ax_r.plot(slopes, losses, color="black")
    ax_r.scatter([slope], [mse(y_hat.double(), y.double())], color=PALETTE[1],
                 zorder=3, label=f"$w = {slope:g}$, the line on the left")
    ax_r.set(xlabel="slope $w$", ylabel="mean squared error $J(w)$",
             title="the loss as a function of $w$")
    ax_r.legend(loc="upper right")
    return ax_l.figure


def plot_empirical_loss(per_example: Mapping[str, torch.Tensor],
                        curves: Mapping[str, Sequence[float]], *, axes=None):
    """Every example's loss, sorted, with their mean, the empirical loss, as a
    horizontal line (left); loss curves over training (right).

    Args:
        per_example: name -> ``(n,)`` per-example losses (e.g. before/after).
        curves: name -> empirical loss per epoch.
        axes: a pair of axes to draw on; a new figure if ``None``.
    Returns:
        The ``Figure``.
    """
    ax_l, ax_r = _pair(axes, height=3.0)
    for k, (name, losses) in enumerate(per_example.items()):
        ranked = losses.detach().sort(descending=True).values  # (n,)
        share = torch.arange(1, len(ranked) + 1) / len(ranked)  # (n,)
        mean = float(ranked.mean())
        ax_l.plot(share, ranked, color=PALETTE[k], linestyle=LINESTYLES[k], label=name)
        ax_l.axhline(mean, color=PALETTE[k], linestyle=LINESTYLES[k], linewidth=1.0)
        ax_l.annotate(f"mean {mean:.2f}", (1.0, mean), xytext=(-2, 3),
                      textcoords="offset points", ha="right", va="bottom",
                      fontsize=8, color=PALETTE[k])
    ax_l.set(xlabel="share of examples, sorted by loss", ylabel="loss of one example",
             yscale="log", title="per-example losses")
    ax_l.legend(loc="lower left")
    plot_curves(curves, ax=ax_r, ylabel="empirical loss $J(W)$",
                title="over training")
    return ax_l.figure
