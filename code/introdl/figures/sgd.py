"""Figures of the chapter "Stochastic gradient descent": the noise of mini-batch
gradients, training per epoch and per second, the batch-size sweep, and the
data-parallel diagram."""

import torch

from introdl.checks import check_positive_int
from introdl.experiments.sgd import BatchSizeSweep, TimedRun
from introdl.figures import diagrams
from introdl.figures.style import LINESTYLES, PALETTE, log_ticks, new_figure

__all__ = ["plot_gradient_variance", "plot_loss_vs_epochs_and_time",
           "plot_batch_size_lr_sweep", "draw_data_parallel"]


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
    log_ticks(ax, B.tolist(), y=True)  # the batch sizes, as plain numbers
    ax.legend(loc="lower left")
    return fig


def plot_loss_vs_epochs_and_time(runs: dict[str, TimedRun], *, axes=None):
    """Two panels: training loss against epochs and against seconds.

    Args:
        runs: label -> a :class:`~introdl.experiments.sgd.TimedRun`.
        axes: two axes to draw on, or ``None`` for a new figure.
    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.2, sharey=True)
    ax_e, ax_t = axes
    for i, (label, r) in enumerate(runs.items()):
        style = dict(color=PALETTE[i], linestyle=LINESTYLES[i], marker="o",
                     markersize=3, label=label)
        ax_e.plot(r.epoch, r.loss, **style)
        ax_t.plot(r.time, r.loss, **style)
    ax_e.set(xlabel="epoch", ylabel="training loss", yscale="log",
             title="per pass over the data")
    ax_t.set(xlabel="wall-clock time (s)", title="per second")
    ax_t.legend()
    return ax_e.figure


def plot_batch_size_lr_sweep(sweep: BatchSizeSweep, *, cap: float = 3.0, ax=None,
                             ylabel: str = "final training loss"):
    """Final loss against the learning rate, one curve per batch size; losses
    above ``cap`` (including diverged runs) are drawn at ``cap``. Returns the
    ``Figure``."""
    fig, ax = new_figure(width=5.0, height=3.4) if ax is None else (ax.figure, ax)
    markers = ["o", "s", "^", "D", "v"]
    for i, (B, row) in enumerate(zip(sweep.batch_sizes, sweep.losses)):
        losses = [min(v, cap) for v in row]
        ax.plot(sweep.lrs, losses, color=PALETTE[i], linestyle=LINESTYLES[i],
                marker=markers[i % len(markers)], label=f"B = {B}")
    ax.axhline(cap, color="gray", linewidth=0.8, linestyle=":")
    ax.set(xscale="log", xlabel=r"learning rate $\eta$",
           ylabel=ylabel, ylim=(0, cap * 1.05))
    ax.legend()
    return fig


def draw_data_parallel(world_size: int = 2, *, ax=None):
    """Diagram: a mini-batch split across workers, gradients all-reduced.

    Draws on ``ax`` if given (its limits are set), else on a new figure.
    Returns the ``Figure``.
    """
    check_positive_int("world_size", world_size)
    height = 1.3 * world_size + 0.9
    ax = diagrams.diagram_axes(ax, 6.4, 6.4 * height / 10.6, xlim=(0, 10.6),
                               ylim=(0, height))
    mid = (height + 0.5) / 2
    ys = [height - 0.8 - 1.3 * r for r in range(world_size)]
    diagrams.box(ax, (0.85, mid), "mini-batch\n$B$ examples", width=1.5,
                 height=1.0, kind="input", fontsize=8)
    diagrams.box(ax, (7.3, mid), "all-reduce\n" r"$\bar g = \frac{1}{W}\sum_r g_r$",
                 width=1.8, height=1.1, kind="op", fontsize=8)
    diagrams.box(ax, (9.6, mid), "every worker:\n" r"$w \leftarrow w - \eta\,\bar g$",
                 width=1.8, height=1.1, kind="output", fontsize=8)
    diagrams.arrow(ax, (7.3, mid), (9.6, mid), r_start=0.9, r_end=0.9,
                   label=r"$\bar g$")
    for r, y in enumerate(ys):
        diagrams.box(ax, (2.9, y), f"shard {r}\n$B/{world_size}$ examples",
                     width=1.6, height=0.9, kind="input", fontsize=8)
        diagrams.box(ax, (5.1, y), f"worker {r}\nmodel copy", width=1.6,
                     height=0.9, kind="hidden", fontsize=8)
        diagrams.arrow(ax, (0.85, mid), (2.9, y), r_start=0.75, r_end=0.8)
        diagrams.arrow(ax, (2.9, y), (5.1, y), r_start=0.8, r_end=0.8)
        diagrams.arrow(ax, (5.1, y), (7.3, mid), r_start=0.8, r_end=0.9,
                       label=f"$g_{r}$")
    diagrams.caption(ax, (5.3, 0.25), f"W = {world_size} workers, one process each")
    return ax.figure
