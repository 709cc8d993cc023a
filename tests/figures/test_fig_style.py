import io

import matplotlib
import pytest
import torch

from introdl.figures import diagrams
from introdl.figures.style import (
    PALETTE,
    new_figure,
    plot_curves,
    plot_decision_regions,
    plot_heatmap,
    use_book_style,
)


def test_style_sets_palette_and_date():
    use_book_style(notebook=False)
    colors = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert colors == PALETTE


def _svg(fig):
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def test_svg_output_is_deterministic():
    use_book_style(notebook=False)
    figs = [plot_curves({"train": [3, 2, 1], "val": [3, 2.5, 2.4]}) for _ in range(2)]
    first, second = (_svg(f) for f in figs)
    assert first == second
    assert "<dc:date>" in first and "2026-01-01" in first


def test_plot_curves_labels_and_validation():
    fig = plot_curves({"a": [1, 2]}, xlabel="step", ylabel="value", logy=True)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "step" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="curves"):
        plot_curves({})


def test_plot_curves_puts_epoch_ticks_on_whole_epochs():
    fig = plot_curves({"train": [3, 2, 1.5, 1.2]}, x=range(1, 5))
    fig.canvas.draw()
    ticks = [t for t in fig.axes[0].get_xticks() if 1 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)
    steps = plot_curves({"train": [3, 2]}, x=[0.0, 0.5], xlabel="step").axes[0]
    assert not all(float(t).is_integer() for t in steps.get_xticks())


def test_heatmap_accepts_tensors_and_rejects_3d():
    fig = plot_heatmap(torch.eye(3), xlabels="abc", ylabels="xyz", annotate=True)
    assert len(fig.axes[0].texts) == 9
    with pytest.raises(ValueError, match="2-D"):
        plot_heatmap(torch.zeros(2, 2, 2))


def test_decision_regions_checks_shapes():
    X = torch.randn(10, 2)
    y = (X[:, 0] > 0).float()
    fig = plot_decision_regions(lambda Z: torch.sigmoid(Z[:, 0]), X, y)
    assert fig.axes[0].get_xlabel() == "$x_1$"
    with pytest.raises(ValueError, match="X must have shape"):
        plot_decision_regions(lambda Z: Z[:, 0], torch.randn(10, 3), y)
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_regions(lambda Z: Z[:, 0], X, y[:5])


def test_diagram_primitives():
    fig, ax = diagrams.new_diagram()
    diagrams.node(ax, (1, 1), "a", kind="input")
    diagrams.box(ax, (3, 1), "b")
    diagrams.arrow(ax, (1, 1), (3, 1), label="w")
    assert len(ax.patches) == 3 and [t.get_text() for t in ax.texts] == ["a", "b", "w"]
    with pytest.raises(ValueError, match="kind"):
        diagrams.node(ax, (0, 0), kind="nope")


def test_new_figure_grid():
    fig, axes = new_figure(ncols=2, nrows=2)
    assert axes.shape == (2, 2)


def test_decision_regions_stay_small_as_svg():
    """Shading and points are drawn as an image inside the SVG (issue 18: figure
    files of at most 150 KB); the boundary and the axes stay vector paths."""
    use_book_style(notebook=False)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 2, generator=g)  # as many points as the book's figures
    y = (X[:, 0] * X[:, 1] > 0).float()
    fig = plot_decision_regions(lambda Z: torch.sigmoid(4 * Z[:, 0] * Z[:, 1]), X, y)
    svg = _svg(fig)
    assert "<image" in svg and svg.count("<use") < 50  # markers are in the image
    assert len(svg.encode()) < 150 * 1024


def test_panel_axes_makes_or_checks_the_panels():
    from introdl.figures.style import panel_axes

    axes = panel_axes(3, height=2.0)
    assert len(axes) == 3 and axes[0].figure is axes[2].figure
    assert panel_axes(3, axes, height=2.0) == axes  # given axes are used
    with pytest.raises(ValueError, match="axes must hold 2 axes, got 3"):
        panel_axes(2, axes, height=2.0)
    with pytest.raises(ValueError, match="maps must hold at least one panel"):
        panel_axes(0, height=2.0, what="maps")
