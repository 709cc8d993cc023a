import pytest
import torch
from matplotlib.figure import Figure

from introdl.experiments.backpropagation import DepthSignal, neuron_graph
from introdl.figures.backpropagation import (
    draw_graph,
    plot_finite_difference_errors,
    plot_init_comparison,
)


def test_graph_diagram_shows_values_gradients_and_local_derivatives():
    L = neuron_graph()
    L.backward()
    texts = [t.get_text() for t in draw_graph(L).axes[0].texts]
    assert "$w_1$" in texts and "$L$ (**2)" in texts
    assert f"{L.data:.3g}" in texts and "1" in texts  # L's value and dL/dL
    nodes = {v.label: v for v in L.topological_order()}
    assert f"{nodes['w_2'].grad:.3g}" in texts
    y_hat = nodes[r"\hat{y}"]
    assert f"{y_hat.local_grads[0]:.3g}" in texts


def test_graph_diagram_honours_ax_and_show_grad():
    L = neuron_graph()
    fig = Figure()
    ax = fig.subplots()
    assert draw_graph(L, ax=ax, show_grad=False) is fig
    nodes = len(L.topological_order())
    assert len(ax.patches) >= nodes  # a box per value (and the arrows)
    assert sum(t.get_text() == "0" for t in ax.texts) == 0  # no gradients shown
    with pytest.raises(TypeError, match="root must be a Value"):
        draw_graph(1.0)


def test_finite_difference_plot_draws_the_errors_and_two_slopes():
    hs = torch.logspace(-8, -1, 5, dtype=torch.float64)
    errors = hs ** 2 + 1e-16 / hs
    fig = plot_finite_difference_errors(hs, errors)
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.get_xscale() == "log"
    fig = Figure()
    ax = fig.subplots()
    assert plot_finite_difference_errors(hs, errors, ax=ax) is fig
    assert len(ax.lines) == 3


def _demo():
    signal = DepthSignal([1.0, 0.5, 0.25], [0.3, 0.6, 1.0])
    return {"tanh": {"a": signal, "b": signal, "c": signal},
            "relu": {"a": signal, "b": signal, "c": signal}}


def test_init_comparison_plot_draws_a_line_per_rule_in_every_panel():
    fig = plot_init_comparison(_demo())
    axes = fig.axes
    assert len(axes) == 4
    assert all(len(ax.lines) == 3 and ax.get_yscale() == "log" for ax in axes)
    assert [ax.get_title() for ax in axes[:2]] == ["tanh", "ReLU"]
    xs, ys = axes[2].lines[0].get_data()  # bottom left: the backward signal
    assert list(xs) == [1, 2, 3] and list(ys) == [0.3, 0.6, 1.0]
    (legend,) = fig.legends  # one legend for all panels
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b", "c"]


def test_init_comparison_plot_honours_axes_and_rejects_bad_ones():
    fig = Figure()
    axes = fig.subplots(2, 2, squeeze=False)
    assert plot_init_comparison(_demo(), axes=axes) is fig
    assert len(axes[1, 1].lines) == 3
    with pytest.raises(ValueError, match=r"\(2, 2\) array of axes"):
        plot_init_comparison(_demo(), axes=Figure().subplots(1, 2))
    with pytest.raises(ValueError, match="at least one activation"):
        plot_init_comparison({})
