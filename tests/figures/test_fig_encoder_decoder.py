"""Figures of the chapter "Encoder-decoder and cross-attention"."""

import matplotlib.figure
import pytest
import torch

from introdl.figures.encoder_decoder import draw_encoder_decoder, plot_cross_attention
from introdl.figures.style import new_figure


def test_draw_encoder_decoder_on_the_given_axes():
    fig, ax = new_figure()
    assert draw_encoder_decoder(ax=ax) is fig
    texts = [t.get_text() for t in ax.texts]
    for label in ("encoder", "decoder", "cross-attention", "self-attention\n(no mask)",
                  "masked self-attention\n(causal)"):
        assert label in texts
    assert texts.count("feed-forward network") == 2 and not ax.axison
    assert isinstance(draw_encoder_decoder(), matplotlib.figure.Figure)


def test_plot_cross_attention_one_panel_per_matrix():
    w = torch.rand(3, 4).softmax(-1)
    fig = plot_cross_attention({"head 1": w, "expected": torch.eye(3, 4)}, list("abcd"),
                               list("xyz"))
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in heatmaps] == ["head 1", "expected"]
    assert heatmaps[0].images[0].get_array().shape == (3, 4)
    assert [t.get_text() for t in heatmaps[0].get_yticklabels()] == list("xyz")
    assert [t.get_text() for t in heatmaps[1].get_xticklabels()] == list("abcd")


def test_plot_cross_attention_honours_axes_and_checks_shapes():
    fig, axes = new_figure(ncols=2)
    w = torch.rand(2, 3)
    assert plot_cross_attention({"a": w, "b": w}, list("abc"), list("xy"),
                                axes=list(axes)) is fig
    assert all(ax.images for ax in axes)
    with pytest.raises(ValueError, match="must be \\(2, 3\\)"):
        plot_cross_attention({"a": torch.rand(3, 2)}, list("abc"), list("xy"))
    with pytest.raises(ValueError, match="axes must hold 2"):
        plot_cross_attention({"a": w, "b": w}, list("abc"), list("xy"), axes=[axes[0]])
    with pytest.raises(ValueError, match="at least one"):
        plot_cross_attention({}, [], [])
