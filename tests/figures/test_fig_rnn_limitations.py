"""Figures of the chapter "Limitations of recurrent models"."""

import matplotlib.figure

from introdl.experiments.rnn_limitations import Parallelism, Recall, Timings
from introdl.figures.rnn_limitations import (
    draw_sequential_vs_parallel,
    plot_parallelism,
    plot_recall,
    plot_timings,
)
from introdl.figures.style import new_figure

TIMINGS = Timings([4, 8], {"recurrent": [1e-3, 2e-3], "no waiting": [1e-4, 1e-4],
                           "attention": [1e-3, 3e-3]})


def test_plot_timings_draws_one_curve_per_layer_in_ms_on_log_axes():
    fig, ax = new_figure()
    assert plot_timings(TIMINGS, ax=ax) is fig
    assert len(ax.lines) == 3
    assert list(ax.lines[0].get_ydata()) == [1.0, 2.0]  # milliseconds
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "8"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["recurrent layer (nn.RNN)", "same arithmetic, no waiting",
                      "self-attention"]


def test_plot_recall_one_curve_per_hidden_size_and_chance():
    recall = Recall([1, 2], {8: [1.0, 0.5], 32: [1.0, 0.9]})
    fig, ax = new_figure()
    assert plot_recall(recall, chance=0.1, item="digits", ax=ax) is fig
    assert len(ax.lines) == 3  # two hidden sizes and the chance level
    assert list(ax.lines[1].get_ydata()) == [1.0, 0.9]
    assert list(ax.lines[2].get_ydata()) == [0.1, 0.1]
    assert "digits" in ax.get_xlabel()
    assert isinstance(plot_recall(recall, chance=0.1), matplotlib.figure.Figure)


def test_plot_recall_draws_the_control_dashed_beside_the_gru_curves():
    recall = Recall([1, 2], {16: [1.0, 0.5], 64: [1.0, 0.8]}, {64: [1.0, 1.0]})
    fig, ax = new_figure()
    plot_recall(recall, chance=0.1, ax=ax)
    assert len(ax.lines) == 4  # two GRUs, the control, chance
    assert [line.get_linestyle() for line in ax.lines[:3]] == ["-", "-", "--"]
    assert list(ax.lines[2].get_ydata()) == [1.0, 1.0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "attention" in labels[2] and "64" in labels[2]


def test_plot_parallelism_two_log_panels_one_curve_per_layer():
    par = Parallelism([4, 8], {"recurrent": [10, 20], "attention": [5, 5]},
                      {"recurrent": [100, 200], "attention": [50, 150]})
    fig, axes = new_figure(ncols=2)
    assert plot_parallelism(par, axes=axes) is fig
    for ax in axes:
        assert len(ax.lines) == 2
        assert ax.get_xscale() == ax.get_yscale() == "log"
    assert list(axes[0].lines[0].get_ydata()) == [10, 20]  # depth
    assert list(axes[1].lines[1].get_ydata()) == [10.0, 30.0]  # FLOPs per step
    assert "depth" in axes[0].get_ylabel()
    assert len(plot_parallelism(par).axes) == 2


def test_draw_sequential_vs_parallel_draws_every_pair_on_the_given_axes():
    fig, ax = new_figure()
    assert draw_sequential_vs_parallel(4, ax=ax) is fig
    assert not ax.axison and ax.get_xlim() == (0, 14)
    texts = {t.get_text() for t in ax.texts}
    assert {"$h_4$", "$y_4$", "$x_1$"} <= texts
    own = draw_sequential_vs_parallel(3)
    assert own is not fig and len(own.axes) == 1
