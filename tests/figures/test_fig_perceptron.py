import pytest
from matplotlib.figure import Figure

from introdl.experiments.perceptron import separability_demo
from introdl.figures.perceptron import (
    draw_perceptron,
    plot_activations,
    plot_separability,
)


def test_plot_activations_draws_three_curves_in_each_panel():
    fig = plot_activations()
    ax_f, ax_d = fig.axes
    assert [line.get_label() for line in ax_f.lines] == ["sigmoid", "tanh", "ReLU"]
    assert len(ax_d.lines) == 3
    ys = ax_d.lines[0].get_ydata()  # the sigmoid's derivative peaks at 1/4
    assert max(ys) == pytest.approx(0.25)


def test_plot_activations_honours_the_axes_passed_in():
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert plot_activations(axes=axes) is fig
    assert len(axes[0].lines) == len(axes[1].lines) == 3


def test_diagram_has_all_labels_and_honours_ax():
    fig = draw_perceptron(d=2)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"$x_1$", "$x_2$", "$w_0$", "$w_2$", r"$\hat{y}$", "$g$"} <= texts
    fig = Figure()
    ax = fig.subplots()
    assert draw_perceptron(d=3, ax=ax) is fig
    assert "$x_3$" in {t.get_text() for t in ax.texts}


def test_plot_separability_draws_one_panel_per_run():
    runs = separability_demo(num_steps=2)
    fig = plot_separability(runs)
    assert [ax.get_title() for ax in fig.axes] == list(runs)
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert plot_separability(runs, axes=axes) is fig
    assert all(len(ax.collections) > 0 for ax in axes)
    with pytest.raises(ValueError, match="one axes per run"):
        plot_separability(runs, axes=axes[:2])
