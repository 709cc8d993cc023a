"""Tests of the figures of the chapter "Overfitting"."""

import pytest

from introdl.experiments.overfitting import capacity_curve, double_descent_curve
from introdl.figures.overfitting import (
    plot_capacity_curve,
    plot_double_descent,
    plot_fits,
    plot_gap_vs_size,
    plot_interpolants,
)
from introdl.figures.style import new_figure
from introdl.polynomial import fit_polynomial, noisy_sine, predict_polynomial


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


def test_double_descent_figure_marks_the_threshold_on_the_given_axes():
    train, test = noisy_sine(10, grid=True), noisy_sine(100, seed=1)
    curve = double_descent_curve(train, test, [0, 3, 9, 12, 50])
    fig, (ax_fit, ax_curve) = new_figure(ncols=2)
    assert plot_double_descent(curve, 10, ax=ax_curve, noise=0.3) is fig
    assert ax_curve.get_xscale() == ax_curve.get_yscale() == "log"
    train_line, test_line = ax_curve.lines[:2]
    assert list(train_line.get_xdata()) == [1, 4, 10, 13, 51]  # weights = d + 1
    assert min(train_line.get_ydata()) == 1e-4  # an exact fit drawn on the bottom
    assert list(test_line.get_ydata()) == curve.test_mse
    assert any(list(line.get_xdata()) == [10, 10] for line in ax_curve.lines)
    assert any("interpolation threshold" in t.get_text() for t in ax_curve.texts)
    assert len(ax_fit.lines) == 0  # the other axes is left alone
    with pytest.raises(ValueError, match="num_train"):
        plot_double_descent(curve, 0)


def test_interpolants_draw_one_curve_each_on_the_given_axes():
    train = noisy_sine(10, grid=True)
    w1, w3 = fit_polynomial(*train, 1), fit_polynomial(*train, 3)
    fig, ax = new_figure()
    predictions = {"one": lambda x: predict_polynomial(w1, x),
                   "three": lambda x: predict_polynomial(w3, x)}
    assert plot_interpolants(train, predictions, ax=ax, noise=0.3) is fig
    assert len(ax.lines) == 3  # the truth and the two fits
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1:3] == ["one", "three"]
    assert len(plot_interpolants(train, predictions).axes) == 1
