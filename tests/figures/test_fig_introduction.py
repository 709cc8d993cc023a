import torch
from matplotlib.figure import Figure

from introdl.data import load_digits
from introdl.experiments.introduction import hand_designed_detectors
from introdl.figures.introduction import (
    draw_ai_nesting,
    plot_detectors,
    plot_digit_samples,
)


def test_nesting_diagram_names_the_four_circles():
    fig = draw_ai_nesting()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"intelligence", "artificial intelligence", "machine learning",
            "deep learning"} <= texts
    assert len(fig.axes[0].patches) == 4


def test_digit_samples_and_detectors():
    data = load_digits(seed=0)
    fig = plot_digit_samples(data.X_train, data.y_train, per_class=2)
    assert [t.get_text() for t in fig.axes[0].texts] == [str(d) for d in range(10)]
    names, D = hand_designed_detectors()
    fig = plot_detectors(D, names, torch.randn(12, 64))
    assert len(fig.axes) == 2
    assert "neuron 12" in {t.get_text() for t in fig.axes[1].texts}


def test_the_axes_passed_in_are_drawn_on():
    fig = Figure()
    ax, ax_h, ax_l, ax_d = fig.subplots(1, 4)
    assert draw_ai_nesting(ax=ax) is fig and len(ax.patches) == 4
    data = load_digits(seed=0)
    assert plot_digit_samples(data.X_train, data.y_train, ax=ax_d) is fig
    assert len(ax_d.images) == 1
    names, D = hand_designed_detectors()
    assert plot_detectors(D, names, torch.randn(12, 64), axes=(ax_h, ax_l)) is fig
    assert len(ax_h.images) == len(ax_l.images) == 1
    assert len(fig.axes) == 4  # nothing new was made
