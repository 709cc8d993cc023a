"""Figures of the chapter "Transformers"."""

import matplotlib.figure
import pytest

from introdl.experiments.transformers import StreamScale
from introdl.figures.style import new_figure
from introdl.figures.transformers import (
    draw_gpt,
    draw_transformer_block,
    plot_mask,
    plot_stream_scale,
)
from introdl.transformer import causal_mask


def test_draw_transformer_block_on_the_given_axes():
    fig, ax = new_figure()
    assert draw_transformer_block(ax=ax) is fig
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("layer norm") == 2 and texts.count("residual connection") == 2
    assert not ax.axison
    assert isinstance(draw_transformer_block(), matplotlib.figure.Figure)


def test_draw_gpt_one_box_per_block():
    fig, ax = new_figure()
    assert draw_gpt(3, ax=ax) is fig
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if t.startswith("block")] == ["block 1", "block 2",
                                                            "block 3"]
    with pytest.raises(ValueError, match="num_layers"):
        draw_gpt(0)


def test_plot_mask_dark_where_allowed():
    fig, ax = new_figure()
    assert plot_mask(causal_mask(4), list("abcd"), ax=ax) is fig
    image = ax.images[0].get_array()
    assert image.shape == (4, 4) and image[3, 0] == 1 and image[0, 3] == 0
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    assert len(plot_mask(causal_mask(3)).axes) == 1


def test_plot_stream_scale_one_curve_per_arrangement_against_depth():
    scale = StreamScale([1.0, 1.2, 1.5], [1.0, 1.0, 1.0])
    fig, ax = new_figure()
    assert plot_stream_scale(scale, ax=ax) is fig
    assert len(ax.lines) == 2
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2]
    assert list(ax.lines[0].get_ydata()) == [1.0, 1.2, 1.5]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("pre-norm") and labels[1].startswith("post-norm")
    assert ax.get_ylim()[0] == 0
    assert len(plot_stream_scale(scale).axes) == 1
