"""Tests of the figures of the chapter "Stochastic gradient descent"."""

import math

import torch

from introdl.experiments.sgd import BatchSizeSweep, TimedRun
from introdl.figures.sgd import (
    draw_data_parallel,
    plot_batch_size_lr_sweep,
    plot_gradient_variance,
    plot_loss_vs_epochs_and_time,
)
from introdl.figures.style import new_figure


def test_variance_plot_labels_the_batch_sizes():
    fig = plot_gradient_variance([1, 2, 4], torch.tensor([1.0, 0.5, 0.25]), 1.0, 10)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "4"]




def test_data_parallel_diagram():
    texts = [t.get_text() for t in draw_data_parallel(3).axes[0].texts]
    assert "worker 2\nmodel copy" in texts and "$g_{2}$" not in texts
    assert "$g_2$" in texts

def test_loss_vs_epochs_and_time_one_line_per_run_in_each_panel():
    runs = {"B = 1": TimedRun([0.0, 1.0], [0.0, 0.5], [2.0, 1.0]),
            "full": TimedRun([0.0, 1.0, 2.0], [0.0, 0.1, 0.2], [2.0, 1.5, 1.2])}
    fig = plot_loss_vs_epochs_and_time(runs)
    ax_e, ax_t = fig.axes
    assert ax_e.get_xlabel() == "epoch" and len(ax_e.lines) == len(ax_t.lines) == 2
    assert list(ax_t.lines[1].get_xdata()) == [0.0, 0.1, 0.2]
    fig2, axes = new_figure(ncols=2)
    assert plot_loss_vs_epochs_and_time(runs, axes=axes) is fig2
    assert len(axes[0].lines) == 2


def test_batch_size_sweep_caps_diverged_runs():
    sweep = BatchSizeSweep([4, 32], [0.1, 1.0], [[0.5, math.inf], [0.7, 0.2]])
    fig, ax = new_figure()
    assert plot_batch_size_lr_sweep(sweep, ax=ax, cap=3.0) is fig
    assert ax.get_xscale() == "log"
    assert list(ax.lines[0].get_ydata()) == [0.5, 3.0]  # inf drawn at the cap
    assert [ln.get_label() for ln in ax.lines[:2]] == ["B = 4", "B = 32"]


def test_variance_plot_and_diagram_on_given_axes():
    fig, axes = new_figure(ncols=2)
    B = [1, 2, 4]
    assert plot_gradient_variance(B, torch.tensor([1.0, 0.5, 0.25]), 1.0, 10,
                                  ax=axes[0]) is fig
    assert len(axes[0].lines) == 3 and axes[0].get_yscale() == "log"
    assert draw_data_parallel(2, ax=axes[1]) is fig and not axes[1].axison
