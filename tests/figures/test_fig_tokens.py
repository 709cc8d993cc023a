"""Figures of the chapter "Subword tokens"."""

import matplotlib.patches as mpatches
import pytest

from introdl.bpe import train_bpe
from introdl.corpus import generate_sentences
from introdl.experiments.tokens import first_merges, segmentations, vocab_curve
from introdl.figures.style import new_figure
from introdl.figures.tokens import (
    draw_segmentation,
    plot_merges,
    plot_sequence_length,
    plot_vocab_size,
)


@pytest.fixture(scope="module")
def data():
    train = generate_sentences(200, seed=0)
    return train, generate_sentences(50, seed=1), train_bpe(train, 1000)


def test_plot_merges_one_bar_per_merge_first_on_top(data):
    train, _, merges = data
    rows = first_merges(train, merges, k=6)
    fig, ax = new_figure()
    assert plot_merges(rows, ax=ax) is fig
    bars = [p for p in ax.patches if isinstance(p, mpatches.Rectangle)]
    assert [b.get_width() for b in bars] == [r.count for r in rows]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].strip().startswith("1.") and rows[0].token in labels[0]
    assert ax.yaxis_inverted()
    with pytest.raises(ValueError):
        plot_merges([])


def test_vocab_panels_draw_on_the_given_axes(data):
    train, test, merges = data
    curve = vocab_curve(train, test, merges)
    fig, axes = new_figure(ncols=2)
    assert plot_vocab_size(curve, ax=axes[0]) is fig
    assert plot_sequence_length(curve, ax=axes[1]) is fig
    assert len(axes[0].lines) == 3 and len(axes[1].lines) == 2
    assert list(axes[0].lines[0].get_ydata()) == curve.vocab_size
    assert list(axes[1].lines[0].get_ydata()) == curve.tokens_per_sentence


def test_segmentation_one_box_per_token(data):
    train, _, merges = data
    seg = segmentations("the zebra eats .", train, merges, num_merges=(0,))
    fig, ax = new_figure()
    assert draw_segmentation(seg, ax=ax) is fig
    boxes = [p for p in ax.patches if isinstance(p, mpatches.Rectangle)]
    expected = len(seg.words) + sum(len(tokens) for _, tokens in seg.rows)
    assert len(boxes) == expected
    assert sum(b.get_hatch() == "///" for b in boxes) == 1  # "zebra" is unknown
