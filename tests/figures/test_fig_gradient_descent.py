import pytest
import torch
from matplotlib.figure import Figure

from introdl.figures.gradient_descent import (
    plot_learning_rates,
    plot_loss_contours,
    plot_loss_surface,
)
from introdl.landscape import bumpy_loss, gradient_descent, loss_grid, rosenbrock


@pytest.fixture(scope="module")
def grid():
    return loss_grid(rosenbrock, (-2.0, 2.0), (-1.0, 3.0), 20)


def test_surface_is_3d_and_marks_points(grid):
    fig = plot_loss_surface(*grid, marks={"min": (1.0, 1.0)})
    ax = fig.axes[0]
    assert ax.name == "3d" and [t.get_text() for t in ax.texts] == ["min"]


def test_contours_draw_each_path_and_label_only_public_ones(grid):
    path = torch.tensor([[-1.0, 2.0], [0.0, 1.0], [1.0, 1.0]])
    fig = plot_loss_contours(*grid, paths={"a": path, "_b": path}, cbar_label=None)
    ax = fig.axes[0]
    assert len(fig.axes) == 1  # no colour bar
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a"]
    assert len(ax.lines) == 2 * 3  # each path: the line, its start and its end


def test_contours_and_surface_honour_the_axes_passed_in(grid):
    fig = Figure()
    ax = fig.add_subplot(1, 2, 1)
    ax3d = fig.add_subplot(1, 2, 2, projection="3d")
    assert plot_loss_contours(*grid, ax=ax, marks={"m": (0.0, 0.0)}) is fig
    assert plot_loss_surface(*grid, ax=ax3d) is fig
    assert len(ax.texts) == 1 and ax3d.collections
    assert len(fig.axes) == 3  # the two axes and the contour's colour bar


def test_learning_rates_draw_one_run_per_curve():
    runs = {"small": gradient_descent(bumpy_loss, torch.tensor(-3.0), 0.05, 5),
            "large": gradient_descent(bumpy_loss, torch.tensor(-3.0), 0.5, 5)}
    fig = plot_learning_rates(bumpy_loss, runs)
    ax_w, ax_l = fig.axes
    assert len(ax_w.lines) == 1 + 2 and len(ax_l.lines) == 2  # loss curve + runs
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert plot_learning_rates(bumpy_loss, runs, axes=axes) is fig
    assert len(axes[1].lines) == 2


def test_loss_map_is_an_image_under_vector_lines():
    """The filled map is rasterized (issue 18: figure files of at most 150 KB)."""
    import io

    grid = loss_grid(rosenbrock, (-2.0, 2.0), (-1.0, 3.0), num=200)
    fig = plot_loss_contours(grid[0], grid[1], grid[2].log10(), levels=20)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    assert "<image" in buf.getvalue()
    assert len(buf.getvalue().encode()) < 150 * 1024
