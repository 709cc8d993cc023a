"""Figures of the chapter "Attention"."""

import matplotlib.figure
import pytest
import torch

from introdl.attention import positional_encoding
from introdl.experiments.attention import score_spread
from introdl.figures.attention import (
    draw_attention_steps,
    plot_alignment,
    plot_head_weights,
    plot_positional_encoding,
    plot_score_scaling,
)
from introdl.figures.style import new_figure
from introdl.tasks import reversal_alignment


def test_draw_attention_steps_labels_the_five_steps_on_the_given_axes():
    fig, ax = new_figure()
    assert draw_attention_steps(ax=ax) is fig
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t[:1].isdigit()] == [
        "1 encode\nposition", "2 queries, keys,\nvalues", "3 similarity",
        "4 attention\nweights", "5 extract\nvalues"]
    assert not ax.axison
    assert isinstance(draw_attention_steps(), matplotlib.figure.Figure)


def test_plot_score_scaling_two_curves_and_two_bar_groups():
    spread = score_spread(d_ks=(4, 64), n=50, num_keys=5)
    fig, axes = new_figure(ncols=2)
    assert plot_score_scaling(spread, axes=axes) is fig
    ax1, ax2 = axes
    assert len(ax1.lines) == 2 and ax1.get_xscale() == ax1.get_yscale() == "log"
    assert list(ax1.lines[0].get_ydata()) == spread.unscaled
    assert [t.get_text() for t in ax1.get_xticklabels()] == ["4", "64"]
    assert len(ax2.patches) == 2 * 5
    assert len(plot_score_scaling(spread).axes) == 2


def test_plot_positional_encoding_heatmap_and_one_curve_per_dimension():
    pe = positional_encoding(20, 32)
    fig, axes = new_figure(ncols=2)
    assert plot_positional_encoding(pe, dims=(0, 3, 9), axes=axes) is fig
    heat, curves = axes
    assert heat.images[0].get_array().shape == (32, 20)  # dimensions as rows
    assert len(curves.lines) == 3
    assert list(curves.lines[1].get_ydata()) == pe[:, 3].tolist()
    labels = [t.get_text() for t in curves.get_legend().get_texts()]
    assert labels == ["dim 0 (sin)", "dim 3 (cos)", "dim 9 (cos)"]


def test_plot_alignment_three_panels_one_colour_scale():
    A = reversal_alignment(4)
    fig, axes = new_figure(ncols=3)
    assert plot_alignment(A / 2, A, A, list("abcd"), list("dcba"), axes=axes) is fig
    assert [ax.get_title() for ax in axes] == ["before training", "after training",
                                               "expected (reversal)"]
    assert all(ax.images[0].get_clim() == (0, 1) for ax in axes)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == list("dcba")
    assert len(fig.axes) == 4  # three panels and one colour bar
    default = plot_alignment(A / 2, A, A)
    labels = [t.get_text() for t in default.axes[0].get_xticklabels()]
    assert labels == ["0", "1", "2", "3"]


def test_plot_head_weights_one_panel_per_head_and_layer():
    fig = plot_head_weights(torch.rand(2, 3, 3), list("xyz"), prefix="block 1, ")
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["block 1, head 1", "block 1, head 2"]
    fig = plot_head_weights(torch.rand(2, 2, 3, 4), list("abcd"),
                            query_tokens=list("xyz"))
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4 and panels[3].get_title() == "layer 2, head 2"
    assert [t.get_text() for t in panels[0].get_yticklabels()] == list("xyz")
    fig, axes = new_figure(ncols=2, squeeze=False)
    assert plot_head_weights(torch.rand(2, 3, 3), list("xyz"), axes=axes) is fig
    with pytest.raises(ValueError, match="weights must be"):
        plot_head_weights(torch.rand(3, 3), list("xyz"))
