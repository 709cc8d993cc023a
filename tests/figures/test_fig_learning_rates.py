"""Tests of the figures of the chapter "Learning rates and adaptive methods"."""

import math

import pytest

from introdl.experiments.learning_rates import LRSweep, ScheduleRuns
from introdl.figures.learning_rates import plot_lr_sweeps, plot_schedules
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


def _runs(lr):
    hs = [History(val_loss=[1.0, 0.5]), History(val_loss=[0.8, 0.3])]
    return ScheduleRuns(lr, [0, 1], {"constant": hs, "decay": hs[::-1]},
                        {"constant": [lr] * 4, "decay": [lr, lr, lr / 2, lr / 4]})


def test_schedules_figure_has_one_panel_per_run_and_a_curve_per_schedule():
    fig, axes = new_figure(ncols=3)
    assert plot_schedules([_runs(0.1), _runs(0.3)], axes=axes) is fig
    assert [len(ax.lines) for ax in axes] == [2, 2, 2]
    assert list(axes[0].lines[1].get_ydata()) == [1, 1, 0.5, 0.25]  # lr / peak
    assert list(axes[1].lines[0].get_ydata()) == [0.9, 0.4]  # the mean of the seeds
    assert list(axes[1].lines[0].get_xdata()) == [1, 2]
    assert axes[2].get_title() == "peak learning rate 0.3"
    assert axes[1].lines[1].get_color() == axes[0].lines[1].get_color()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["constant", "decay"]


def test_schedules_figure_checks_its_arguments():
    assert len(plot_schedules([_runs(0.1)]).axes) == 2
    with pytest.raises(ValueError, match="at least one"):
        plot_schedules([])
    with pytest.raises(ValueError, match="must hold 2 axes"):
        plot_schedules([_runs(0.1)], axes=new_figure(ncols=3)[1])
