"""Tests of the figures of the chapter "Learning rates and adaptive methods"."""

import math

from introdl.experiments.learning_rates import LRSweep
from introdl.figures.learning_rates import plot_lr_sweeps
from introdl.figures.style import new_figure
from introdl.training import History


def _sweeps():
    good = History(train_loss=[1, 1, 1], val_loss=[2.0, 1.0, 0.5])
    worse = History(train_loss=[1, 1, 1], val_loss=[2.0, 1.5, 1.2])
    diverged = History(train_loss=[1, 1, 1], val_loss=[2.0, math.nan, math.nan])
    return {"SGD": LRSweep([0.1, 1.0, 10.0], [worse, good, diverged]),
            "Adam": LRSweep([0.01, 0.1], [good, worse])}


def test_one_curve_per_optimizer_in_each_panel_on_the_given_axes():
    fig, axes = new_figure(ncols=2)
    assert plot_lr_sweeps(_sweeps(), axes=axes) is fig
    ax_curve, ax_sweep = axes
    assert len(ax_curve.lines) == len(ax_sweep.lines) == 2
    labels = [t.get_text() for t in ax_curve.get_legend().get_texts()]
    assert labels == ["SGD (η = 1)", "Adam (η = 0.01)"]  # each at its best rate
    assert list(ax_curve.lines[0].get_xdata()) == [1, 2, 3]
    assert list(ax_sweep.lines[0].get_ydata()) == [1.2, 0.5, 3.0]  # NaN at the cap
    assert ax_sweep.get_xscale() == "log"
    assert ax_sweep.get_ylabel() == "validation loss after 3 epochs"


def test_a_new_figure_when_no_axes_are_given():
    fig = plot_lr_sweeps(_sweeps(), cap=1.0)
    assert len(fig.axes) == 2
    assert max(fig.axes[1].lines[0].get_ydata()) == 1.0
