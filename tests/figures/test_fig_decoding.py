"""Figures of the chapter "Decoding and evaluating a language model"."""

import pytest
import torch

from introdl.decoding import top_k_filter
from introdl.experiments.decoding import SamplingSweep
from introdl.figures.decoding import (
    plot_next_token_distributions,
    plot_quality_diversity,
)
from introdl.figures.style import new_figure

ITOS = [f"w{i}" for i in range(8)]


def test_distributions_share_the_order_of_the_first():
    z = torch.tensor([0.1, 2.0, -1.0, 1.0, 0.5, -2.0, 0.0, 1.5])
    dists = {"all": z.softmax(-1), "top-2": top_k_filter(z, 2).softmax(-1)}
    fig = plot_next_token_distributions(dists, ITOS, num_tokens=4)
    axes = [ax for ax in fig.axes if ax.patches]
    assert len(axes) == 2
    labels = [t.get_text() for t in axes[1].get_xticklabels()]
    assert labels == ["w1", "w7", "w3", "w4"]  # most probable first, in both panels
    heights = [p.get_height() for p in axes[1].patches]
    assert heights[2:] == [0, 0] and heights[0] > heights[1] > 0
    assert "2 of 8 tokens kept" in axes[1].get_title()


def test_distributions_honour_axes_and_check_inputs():
    fig, axes = new_figure(ncols=2)
    p = torch.full((8,), 1 / 8)
    assert plot_next_token_distributions({"a": p, "b": p}, ITOS, axes=list(axes)) is fig
    assert all(len(ax.patches) == 8 for ax in axes)
    with pytest.raises(ValueError, match="axes must hold 2"):
        plot_next_token_distributions({"a": p, "b": p}, ITOS, axes=[axes[0]])
    with pytest.raises(ValueError, match="shape"):
        plot_next_token_distributions({"a": p, "b": p[:4]}, ITOS)
    with pytest.raises(ValueError, match="at least one"):
        plot_next_token_distributions({}, ITOS)


def sweep():
    return SamplingSweep(
        labels=["greedy", "t=0.5", "t=1", "k=5", "p=0.9"],
        families=["greedy", "temperature", "temperature", "top-k", "top-p"],
        values=[0, 0.5, 1.0, 5, 0.9], grammatical=[1.0, 0.95, 0.8, 0.9, 0.92],
        distinct=[0.05, 0.7, 0.9, 0.7, 0.8])


def test_quality_diversity_one_line_per_family():
    fig, ax = new_figure()
    assert plot_quality_diversity(sweep(), ax=ax) is fig
    assert len(ax.lines) == 4
    temperature = ax.lines[1]
    assert list(temperature.get_xdata()) == [0.7, 0.9]
    assert list(temperature.get_ydata()) == [0.95, 0.8]
    assert sorted(t.get_text() for t in ax.texts) == ["0.5", "0.9", "1", "5"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "greedy" and len(legend) == 4


def test_quality_diversity_chooses_families():
    fig = plot_quality_diversity(sweep(), ["temperature", "top-p"])
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="not in the sweep"):
        plot_quality_diversity(sweep(), ["beam"])


def test_quality_diversity_labels_cross_no_line():
    sweep = SamplingSweep(
        labels=list("gabcdefgh"),
        families=["greedy"] + ["temperature"] * 3 + ["top-k"] * 2 + ["top-p"] * 3,
        values=[0, 0.5, 1.0, 2.0, 2, 5, 0.5, 0.8, 0.95],
        grammatical=[1.0, 0.955, 0.765, 0.155, 0.985, 0.945, 1.0, 0.91, 0.855],
        distinct=[0.05, 0.81, 0.915, 0.98, 0.25, 0.76, 0.52, 0.85, 0.905])
    ax = plot_quality_diversity(sweep).axes[0]
    ax.figure.canvas.draw()
    paths = [line.get_transform().transform_path(line.get_path()) for line in ax.lines]
    for text in ax.texts:
        box = text.get_window_extent()
        crossed = any(p.intersects_bbox(box, filled=False) for p in paths)
        assert not crossed, text.get_text()
