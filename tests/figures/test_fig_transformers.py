"""Figures of the chapter "Transformers"."""

import matplotlib.figure
import pytest

from introdl.figures.style import new_figure
from introdl.figures.transformers import draw_gpt, draw_transformer_block, plot_mask
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
