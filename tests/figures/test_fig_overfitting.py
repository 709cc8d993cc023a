"""Tests of the figures of the chapter "Overfitting"."""

import pytest

from introdl.experiments.overfitting import capacity_curve
from introdl.figures.overfitting import plot_capacity_curve, plot_fits, plot_gap_vs_size
from introdl.figures.style import new_figure
from introdl.polynomial import fit_polynomial, noisy_sine


def test_plots_return_figures_and_check_lengths():
    train, test = noisy_sine(10, grid=True), noisy_sine(100, seed=1)
    fig = plot_fits(train, {"degree 1": fit_polynomial(*train, 1),
                            "degree 9": fit_polynomial(*train, 9)}, noise=0.3)
    assert [ax.get_title() for ax in fig.axes] == ["degree 1", "degree 9"]
    fig = plot_capacity_curve(capacity_curve(train, test, range(10)), noise=0.3)
    assert fig.axes[0].get_yscale() == "log"
    assert any("about 0" in t.get_text() for t in fig.axes[0].texts)
    fig = plot_gap_vs_size([10, 100], [0.1, 0.2], [0.5, 0.25], title="t")
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="equal lengths"):
        plot_gap_vs_size([10, 100], [0.1], [0.5, 0.2])


def test_the_figures_draw_on_the_axes_they_are_given():
    train, test = noisy_sine(10, grid=True), noisy_sine(100, seed=1)
    fig, axes = new_figure(ncols=4)
    fits = {"a": fit_polynomial(*train, 1), "b": fit_polynomial(*train, 3)}
    assert plot_fits(train, fits, axes=axes[:2]) is fig
    assert all(len(ax.lines) == 2 for ax in axes[:2])  # truth and fit
    curve = capacity_curve(train, test, range(5))
    assert plot_capacity_curve(curve, ax=axes[2]) is fig
    assert len(axes[2].lines) >= 2
    assert plot_gap_vs_size([10, 100], [0.1, 0.2], [0.5, 0.25], ax=axes[3]) is fig
    assert len(axes[3].lines) == 2 and axes[3].get_legend() is not None
