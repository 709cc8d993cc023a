"""Figures of the chapter "Deep sequence modeling"."""

import pytest
import torch

from introdl.experiments.sequence_modeling import EchoRun, parameter_counts
from introdl.figures.sequence_modeling import (
    draw_naive_sequence_model,
    plot_accuracy_curves,
    plot_length_histogram,
    plot_order_demo,
    plot_parameter_counts,
    plot_pronoun_statistics,
)
from introdl.figures.style import new_figure
from introdl.training import History


def test_naive_model_diagram_has_one_column_per_step():
    fig = draw_naive_sequence_model(3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert {"$x_1$", "$x_3$"} <= set(texts) and "$x_0$" not in texts  # t = 1..T
    assert texts.count(r"$\times$") == 2  # no link between the 3 steps
    with pytest.raises(ValueError, match="num_steps must be > 0"):
        draw_naive_sequence_model(0)


def test_accuracy_curves_one_line_per_run_plus_chance_on_the_given_ax():
    runs = {"a": EchoRun(None, History(val_metric=[0.2, 0.3]), 0.3),
            "b": EchoRun(None, History(val_metric=[0.5, 1.0]), 1.0)}
    fig, ax = new_figure()
    assert plot_accuracy_curves(runs, chance=0.25, ax=ax) is fig
    assert [line.get_label() for line in ax.lines][:2] == ["a", "b"]
    assert list(ax.lines[1].get_ydata()) == [0.5, 1.0]
    assert len(ax.lines) == 3 and list(ax.lines[2].get_ydata()) == [0.25, 0.25]


def test_length_histogram_counts_and_honours_ax():
    fig, ax = new_figure()
    assert plot_length_histogram([4, 4, 6], ax=ax) is fig
    assert [p.get_height() for p in ax.patches] == [2, 1]
    with pytest.raises(ValueError, match="lengths"):
        plot_length_histogram([])


def test_pronoun_bars_are_labelled_with_their_percentages():
    fig, ax = new_figure()
    assert plot_pronoun_statistics({"x": 0.5, "y": 1.0, "z": 0.0}, ax=ax) is fig
    assert {t.get_text() for t in ax.texts} == {"50%", "100%", "0%"}
    assert sorted(p.get_width() for p in ax.patches) == [0.0, 0.5, 1.0]


def test_order_demo_draws_both_panels_on_given_axes():
    fig, axes = new_figure(ncols=2)
    out = plot_order_demo(torch.ones(2, 3), torch.zeros(2, 4), ["s1", "s2"],
                          ["a", "b", "c"], axes=axes)
    assert out is fig and len(fig.axes) == 2
    assert len(axes[0].texts) == 6 and len(axes[1].texts) == 8  # one per cell


def test_parameter_counts_on_log_axes_and_given_ax():
    fig, ax = new_figure()
    counts = parameter_counts([1, 10], 3, 4)
    assert plot_parameter_counts([1, 10], counts, ax=ax) is fig
    assert ax.get_xscale() == ax.get_yscale() == "log" and len(ax.lines) == 2
    assert list(ax.lines[0].get_ydata()) == counts["feed-forward on the whole sequence"]
