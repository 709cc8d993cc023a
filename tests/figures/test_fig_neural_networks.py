import pytest
from matplotlib.figure import Figure

from introdl.experiments.neural_networks import depth_width_demo, spiral_data
from introdl.figures.neural_networks import draw_network, plot_depth_width


def test_draw_network_labels_and_validation():
    fig = draw_network([3, 4, 2], weight_names=["$W^{(1)}$", "$W^{(2)}$"],
                       layer_names=["in", "hidden", "out"])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"$x_3$", "$h^{(1)}_4$", r"$\hat{y}_2$", "$W^{(2)}$", "hidden"} <= texts
    assert len(fig.axes[0].patches) == 9 + 3 * 4 + 4 * 2  # nodes and arrows
    with pytest.raises(ValueError, match="sizes"):
        draw_network([3])
    with pytest.raises(ValueError, match="sizes"):
        draw_network([3, 0])


def test_draw_network_honours_ax():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert draw_network([3, 1], ax=left) is fig
    assert draw_network((n for n in [3, 3]), ax=right) is fig
    assert len(left.patches) == 4 + 3 and len(right.patches) == 6 + 9


def test_plot_depth_width_titles_each_panel_and_hides_the_rest():
    X, y = spiral_data(n=40, seed=0)
    res = depth_width_demo({"none": [], "wide": [32], "deep": [4, 4]}, X, y,
                           num_epochs=2)
    fig = plot_depth_width(res, X, y)
    assert len(fig.axes) == 4
    assert "162 parameters" in fig.axes[1].get_title()
    assert not fig.axes[3].axison  # the fourth panel is left empty
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert plot_depth_width(res, X, y, axes=axes) is fig
    assert all(ax.get_title() for ax in axes)
    with pytest.raises(ValueError, match="at least 3 axes"):
        plot_depth_width(res, X, y, axes=axes[:2])
