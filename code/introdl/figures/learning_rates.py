"""Figures of the chapter "Learning rates and adaptive methods": the
learning-rate sweeps of several optimizers on a real network, and training
with learning-rate schedules."""

import math

from matplotlib.ticker import FuncFormatter

from introdl.experiments.learning_rates import LRSweep, ScheduleRuns
from introdl.figures.style import LINESTYLES, PALETTE, new_figure, plot_curves

__all__ = ["plot_lr_sweeps", "plot_schedules"]


def plot_lr_sweeps(sweeps: dict[str, LRSweep], *, axes=None, cap: float = 3.0):
    """Two panels for several optimizers' learning-rate sweeps (name -> sweep).

    Left: the validation loss per epoch of each optimizer at its best learning
    rate. Right: the final validation loss against the learning rate (log
    axis), one curve per optimizer; losses above ``cap``, and runs whose loss
    is not finite, are drawn at ``cap``. ``axes``: two axes, or ``None`` for a
    new figure. Returns the ``Figure``.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.2)
    ax_curve, ax_sweep = axes
    best = {name: s.history(s.best_lr) for name, s in sweeps.items()}
    num_epochs = max(h.num_epochs for h in best.values())
    plot_curves({f"{n} (η = {sweeps[n].best_lr:g})": h.val_loss
                 for n, h in best.items()},
                x=range(1, num_epochs + 1), ax=ax_curve, ylabel="validation loss",
                title="best learning rate of each")
    for name, sweep in sweeps.items():
        finals = [h.val_loss[-1] for h in sweep.histories]
        ax_sweep.plot(sweep.lrs, [min(v, cap) if math.isfinite(v) else cap
                                  for v in finals], marker="o", label=name)
    ax_sweep.set(xscale="log", xlabel="learning rate $\\eta$",
                 ylabel=f"validation loss after {num_epochs} epochs",
                 ylim=(0, cap + 0.1), title="learning-rate sweep")
    ax_sweep.legend(fontsize=8)
    return ax_curve.figure


def plot_schedules(runs: list[ScheduleRuns], *, axes=None, what: str = "val_loss",
                   ylabel: str = "validation loss"):
    """The schedules, and what they did, side by side.

    First panel: each schedule's learning rate divided by its peak, against
    the step (from ``runs[0]``). Then one panel per entry of ``runs``: ``what``
    per epoch (log scale), averaged over the seeds, one curve per schedule, in
    the colour of its schedule. ``axes``: ``1 + len(runs)`` axes, or ``None``
    for a new row. Returns the ``Figure``.
    """
    if not runs:
        raise ValueError("runs must hold at least one ScheduleRuns, got none")
    if axes is None:
        _, axes = new_figure(ncols=1 + len(runs), height=3.0)
    if len(axes) != 1 + len(runs):
        raise ValueError(f"axes must hold {1 + len(runs)} axes, got {len(axes)}")
    names = list(runs[0].lrs)
    style = {name: dict(color=PALETTE[i % len(PALETTE)],
                        linestyle=LINESTYLES[i % len(LINESTYLES)])
             for i, name in enumerate(names)}
    for name in names:
        lrs = runs[0].lrs[name]
        axes[0].plot(range(len(lrs)), [v / runs[0].lr for v in lrs], label=name,
                     **style[name])
    axes[0].set(xlabel="step $t$", ylabel="learning rate / peak",
                title="the schedules", ylim=(0, 1.05))
    plain = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "1235" else "")
    for ax, run in zip(axes[1:], runs):
        for name in names:
            curve = run.mean_curve(name, what)
            ax.plot(range(1, len(curve) + 1), curve, label=name, **style[name])
        ax.set(xlabel="epoch", ylabel=ylabel, yscale="log",
               title=f"peak learning rate {run.lr:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    fig = axes[0].figure
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncol=len(names), fontsize=8)
    return fig
