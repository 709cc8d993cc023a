"""Figures of the chapter "Learning rates and adaptive methods": the
learning-rate sweeps of several optimizers on a real network."""

import math

from introdl.experiments.learning_rates import LRSweep
from introdl.figures.style import new_figure, plot_curves

__all__ = ["plot_lr_sweeps"]


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
