"""Figures of the chapter "Predicting the next word"."""

import pytest
import torch

from introdl.figures.next_word import draw_embedding, plot_embeddings_2d
from introdl.figures.style import new_figure


def test_figures_have_labels():
    fig = draw_embedding(["cat", "dog"], vocab_size=5, embed_dim=2)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"cat", "dog", "vocabulary", "one-hot", "embedding"} <= texts
    fig = plot_embeddings_2d(torch.randn(3, 2), ["a", "b", "c"], ["x", "y", "x"])
    assert {t.get_text() for t in fig.axes[0].texts} == {"a", "b", "c"}
    with pytest.raises(ValueError, match="points must have shape"):
        plot_embeddings_2d(torch.randn(3, 2), ["a", "b"])


def test_embedding_diagram_has_one_lit_cell_per_word():
    fig = draw_embedding(["cat", "dog", "cake"], vocab_size=6, embed_dim=2)
    ones = [t for t in fig.axes[0].texts if t.get_text() == "1"]
    assert len(ones) == 3
    with pytest.raises(ValueError, match="words must hold at least one word"):
        draw_embedding([])


def test_embedding_map_draws_one_group_per_marker_on_the_given_ax():
    fig, ax = new_figure()
    out = plot_embeddings_2d(torch.randn(4, 2), list("abcd"), ["x", "y", "x", "y"],
                             ax=ax)
    assert out is fig and len(ax.collections) == 2  # two groups
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y"]
