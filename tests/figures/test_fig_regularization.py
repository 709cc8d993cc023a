"""Tests of the figures of the chapter "Regularization"."""

import pytest
import torch

from introdl.figures.regularization import (
    draw_dropout,
    plot_dropout_curves,
    plot_early_stopping,
)
from introdl.figures.style import new_figure
from introdl.regularization import dropout_mask
from introdl.training import History


def _history():
    h = History(train_loss=[2.0, 1.0, 0.5, 0.3, 0.2, 0.1],
                val_loss=[2.1, 1.2, 0.9, 1.0, 1.1, 1.3],
                val_metric=[0.1, 0.5, 0.8, 0.8, 0.7, 0.7])
    h.best_epoch, h.stopped_epoch = 2, 4
    return h


def test_plot_early_stopping_marks_best_and_stop():
    fig = plot_early_stopping(_history(), patience=2)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("best epoch 2" in s for s in labels)
    assert any("stop at epoch 4" in s for s in labels)
    assert any("patience" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="val_loss"):
        plot_early_stopping(History(train_loss=[1.0]))


def test_plot_dropout_curves_and_diagram():
    fig = plot_dropout_curves({"a": _history(), "b": _history()})
    assert len(fig.axes[0].lines) == 4 and len(fig.axes[1].lines) == 2
    fig = draw_dropout(p=0.5, seed=3)
    gen = torch.Generator().manual_seed(3)
    dropped = sum((dropout_mask(torch.zeros(5), 0.5, gen) == 0).sum().item()
                  for _ in range(4))  # two masks over two hidden layers
    crosses = [ln for ln in fig.axes[0].lines if len(ln.get_xdata()) == 2]
    assert dropped > 0 and len(crosses) == 2 * dropped  # two strokes per unit


def test_the_figures_draw_on_the_axes_they_are_given():
    fig, axes = new_figure(ncols=3)
    assert plot_early_stopping(_history(), ax=axes[0]) is fig
    assert len(axes[0].lines) >= 2
    assert plot_dropout_curves({"a": _history()}, axes=axes[1:]) is fig
    assert len(axes[1].lines) == 2 and len(axes[2].lines) == 1
    fig2, ax = new_figure()
    assert draw_dropout(ax=ax) is fig2 and not ax.axison and ax.patches


def test_plot_early_stopping_without_a_stop_and_faint_tail():
    h = _history()
    h.stopped_epoch = None
    fig = plot_early_stopping(h)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert not any("stop at" in s for s in labels)
    fig = plot_early_stopping(h, stopped_epoch=3)
    faint = [ln for ln in fig.axes[0].lines if ln.get_alpha() == 0.35]
    assert len(faint) == 2  # training and validation, after the stop
    with pytest.raises(ValueError, match="best_epoch"):
        plot_early_stopping(History(train_loss=[1.0], val_loss=[1.0]))
