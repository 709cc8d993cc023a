"""Figures of the chapter "Backpropagation through time" (no training here: the
histories are made up)."""

import math

import pytest

from introdl.figures.bptt import (
    plot_clipping,
    plot_grad_norms_through_time,
    plot_layer_grad_norms,
)
from introdl.figures.style import new_figure
from introdl.training import History


def test_gradient_norm_plots_use_log_axes_and_the_given_ax():
    fig, ax = new_figure()
    norms = {0.5: [1, 0.5, 0.25], 1.5: [1, 1.5, 2.25]}
    out = plot_grad_norms_through_time(norms, ax=ax)
    assert out is fig and ax.get_yscale() == "log" and len(ax.lines) == 2
    assert ax.get_legend().get_texts()[0].get_text() == r"$\sigma = 0.5$"
    fig, ax = new_figure()
    layers = {"sigmoid": [1e-3, 1e-1], "ReLU": [1, 1]}
    assert plot_layer_grad_norms(layers, ax=ax) is fig
    assert ax.lines[0].get_marker() == "o" and list(ax.lines[0].get_xdata()) == [1, 2]
    with pytest.raises(ValueError, match="norms"):
        plot_layer_grad_norms({})


def test_clipping_plot_leaves_out_non_finite_values():
    runs = {"no clipping": History(train_loss=[1.0, 1e30, math.inf, math.nan],
                                   grad_norm=[10.0, 1e10, math.inf, math.nan]),
            "clipped at 1": History(train_loss=[1.0, 0.8, 0.7, 0.6],
                                    grad_norm=[10.0, 5.0, 4.0, 3.0])}
    fig, axes = new_figure(ncols=2)
    assert plot_clipping(runs, axes=axes) is fig
    assert len(axes[0].lines) == len(axes[1].lines) == 2
    wild = list(axes[0].lines[0].get_ydata())
    assert wild[:2] == [1.0, 1e30] and all(math.isnan(v) for v in wild[2:])
