import pytest
import torch
from matplotlib.figure import Figure

from introdl.figures.loss import plot_bce, plot_empirical_loss, plot_mse


def test_bce_panels_draw_the_two_labels_and_the_two_losses():
    fig = plot_bce()
    ax_l, ax_r = fig.axes
    assert len(ax_l.lines) == 2 and len(ax_r.lines) == 2
    assert all(ax.get_ylabel() == "loss" for ax in fig.axes)


def test_mse_figure_marks_the_slope_on_the_loss_curve():
    x = torch.linspace(0, 3, 10)
    fig = plot_mse(x, 1.5 * x, slope=1.0)
    ax_l, ax_r = fig.axes
    slopes, losses = ax_r.lines[0].get_data()
    assert slopes[losses.argmin()] == pytest.approx(1.5, abs=0.03)  # the best slope
    assert len(ax_l.collections) == 2  # the error segments and the points


def test_empirical_loss_draws_one_curve_and_one_mean_per_set():
    fig = plot_empirical_loss({"a": torch.rand(50), "b": torch.rand(50) / 10},
                              {"train": [2.0, 1.0, 0.5]})
    ax_l, ax_r = fig.axes
    assert ax_l.get_yscale() == "log" and len(ax_l.lines) == 4  # 2 curves, 2 means
    assert len(ax_r.lines) == 1


@pytest.mark.parametrize("draw", [
    lambda axes: plot_bce(axes=axes),
    lambda axes: plot_mse(torch.arange(3.0), torch.arange(3.0), 1.0, axes=axes),
    lambda axes: plot_empirical_loss({"a": torch.rand(5)}, {"t": [1.0]}, axes=axes),
])
def test_the_axes_passed_in_are_drawn_on(draw):
    fig = Figure()
    axes = fig.subplots(1, 2)
    assert draw(axes) is fig
    assert len(fig.axes) == 2 and all(ax.lines for ax in axes)
    with pytest.raises(ValueError, match="pair of axes"):
        draw([axes[0]])
