"""Figures of the chapter "Overfitting": polynomial fits, training and test
error against capacity (up to and past the interpolation threshold), and the
generalization gap against the training-set size."""

from collections.abc import Callable

import torch

from introdl.experiments.overfitting import CapacityCurve
from introdl.figures.style import PALETTE, new_figure
from introdl.polynomial import predict_polynomial, true_function

__all__ = ["plot_fits", "plot_capacity_curve", "plot_double_descent",
           "plot_interpolants", "plot_gap_vs_size"]


def plot_fits(train, fits: dict, *, axes=None, noise: float | None = None,
              ylim=(-2.2, 2.2)):
    """One panel per fitted polynomial: data, true function and the fit.

    Args:
        train: pair ``(x, y)`` of training points.
        fits: title -> coefficients ``w`` (e.g. ``{"degree 1": w1, ...}``).
        axes: a sequence of ``len(fits)`` axes, or ``None`` for a new row.
        noise: if given, shade ``sin(pi x) +- noise``.
    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = new_figure(ncols=len(fits), height=2.6, sharey=True)
    grid = torch.linspace(-1, 1, 400, dtype=torch.float64)
    for i, (ax, (title, w)) in enumerate(zip(axes, fits.items())):
        if noise is not None:
            ax.fill_between(grid, true_function(grid) - noise,
                            true_function(grid) + noise, color=PALETTE[2],
                            alpha=0.12, linewidth=0)
        ax.plot(grid, true_function(grid), color=PALETTE[2], linestyle=":",
                label=r"truth $\sin(\pi x)$")
        ax.plot(grid, predict_polynomial(w, grid), color=PALETTE[1],
                linestyle="-", label="fitted polynomial")
        ax.scatter(*train, s=16, color=PALETTE[0], edgecolors="black",
                   linewidths=0.4, zorder=3, label="training points")
        ax.set(title=title, xlabel="$x$", ylim=ylim)
        if i == 0:
            ax.set_ylabel("$y$")
    return axes[0].figure


def plot_capacity_curve(curve: CapacityCurve, *, ax=None, noise: float | None = None,
                        ymin: float = 1e-4):
    """Training and test MSE against polynomial degree (log scale), the best
    degree marked and the under- and overfitting sides shaded.

    Args:
        curve: from :func:`~introdl.experiments.overfitting.capacity_curve`.
        noise: if given, draw the noise level ``noise**2``, the lowest test MSE.
        ymin: bottom of the axis; errors below it (an interpolating fit has a
            training error of about 0) are drawn on it as a triangle.
    Returns:
        The ``Figure``.
    """
    if ax is None:
        _, ax = new_figure(height=3.2)
    d, train, test = curve.degrees, curve.train_mse, curve.test_mse
    best = d[min(range(len(d)), key=test.__getitem__)]
    ax.axvspan(d[0] - 0.5, best - 0.5, color=PALETTE[5], alpha=0.12, linewidth=0)
    ax.axvspan(best + 0.5, d[-1] + 0.5, color=PALETTE[1], alpha=0.10, linewidth=0)
    shown = [max(v, ymin) for v in train]
    ax.plot(d, shown, marker="o", markersize=4, color=PALETTE[0], linestyle="--",
            label="training error")
    for degree, value in zip(d, train):
        if value < ymin:
            ax.plot(degree, ymin, marker="v", markersize=8, color=PALETTE[0],
                    clip_on=False, zorder=4)
            ax.annotate("about 0", (degree, ymin), xytext=(-8, 6),
                        textcoords="offset points", ha="right", fontsize=8)
    ax.plot(d, test, marker="s", markersize=4, color=PALETTE[1], linestyle="-",
            label="test error")
    if noise is not None:
        ax.axhline(noise ** 2, color="#666666", linestyle=":", linewidth=1.2,
                   label=r"noise level $\sigma^2$")
    ax.annotate(f"best degree: {best}", (best, min(test)), xytext=(0, 32),
                textcoords="offset points", ha="center", fontsize=9,
                arrowprops=dict(arrowstyle="->", color="black", linewidth=0.8))
    for x, label in (((d[0] + best) / 2 - 0.5, "underfitting"),
                     ((best + d[-1]) / 2 + 0.5, "overfitting")):
        ax.text(x, 0.96, label, transform=ax.get_xaxis_transform(), va="top",
                ha="center", fontsize=9, style="italic")
    ax.set(xlabel="polynomial degree (capacity)", ylabel="mean squared error",
           yscale="log", xlim=(d[0] - 0.5, d[-1] + 0.5))
    ax.set_ylim(bottom=ymin)
    ax.legend(loc="lower left")
    return ax.figure


def plot_double_descent(curve: CapacityCurve, num_train: int, *, ax=None,
                        noise: float | None = None, ymin: float = 1e-4):
    """Training and test MSE against the number of weights ``degree + 1`` (both
    axes logarithmic), with the interpolation threshold (as many weights as
    training points, ``num_train``) marked and the regimes on either side named.

    Args:
        curve: from :func:`~introdl.experiments.overfitting.double_descent_curve`.
        noise: if given, draw the noise level ``noise**2``.
        ymin: bottom of the axis; training errors below it (about 0 once the
            fit interpolates) are drawn on it.
    Returns:
        The ``Figure``.
    """
    if num_train < 1:
        raise ValueError(f"num_train must be >= 1, got {num_train!r}")
    if ax is None:
        _, ax = new_figure(height=3.2)
    p = [d + 1 for d in curve.degrees]
    ax.axvspan(num_train, max(p) * 1.5, color=PALETTE[4], alpha=0.10, linewidth=0)
    ax.plot(p, [max(v, ymin) for v in curve.train_mse], marker="o", markersize=3,
            color=PALETTE[0], linestyle="--", label="training error")
    ax.plot(p, curve.test_mse, marker="s", markersize=3, color=PALETTE[1],
            linestyle="-", label="test error")
    if noise is not None:
        ax.axhline(noise ** 2, color="#666666", linestyle=":", linewidth=1.2,
                   label=r"noise level $\sigma^2$")
    ax.axvline(num_train, color="black", linestyle="-.", linewidth=1)
    ax.annotate(f"interpolation threshold\n({num_train} weights = {num_train} points)",
                (num_train, 0.14), xycoords=("data", "axes fraction"),
                xytext=(5, 0), textcoords="offset points", fontsize=8, va="center")
    for shift, text in ((-5, "classical"), (5, "over-parameterized")):
        ax.annotate(text, (num_train, 0.06), xycoords=("data", "axes fraction"),
                    xytext=(shift, 0), textcoords="offset points", va="bottom",
                    ha="right" if shift < 0 else "left", fontsize=8, style="italic")
    ax.set(xscale="log", yscale="log", xlabel="number of weights $d + 1$",
           ylabel="mean squared error", xlim=(min(p) * 0.9, max(p) * 1.1))
    ax.set_ylim(bottom=ymin)
    ax.legend(loc="center right", bbox_to_anchor=(1.0, 0.38), fontsize=8)
    return ax.figure


def plot_interpolants(train, predictions: dict[str, Callable], *, ax=None,
                      noise: float | None = None, ylim=(-2.2, 3.4)):
    """Several fitted curves over the same training points, on one axes.

    Args:
        train: pair ``(x, y)`` of training points.
        predictions: label -> a function that maps ``x`` ``(m,)`` to ``(m,)``.
        noise: if given, shade ``sin(pi x) +- noise`` around the true curve.
    Returns:
        The ``Figure``.
    """
    if ax is None:
        _, ax = new_figure(height=3.2)
    grid = torch.linspace(-1, 1, 400, dtype=torch.float64)
    truth = true_function(grid)
    if noise is not None:
        ax.fill_between(grid, truth - noise, truth + noise, color=PALETTE[2],
                        alpha=0.12, linewidth=0)
    ax.plot(grid, truth, color=PALETTE[2], linestyle=":", label=r"$\sin(\pi x)$")
    for i, (label, predict) in enumerate(predictions.items()):
        ax.plot(grid, predict(grid), color=PALETTE[(1, 3, 4, 5)[i % 4]],
                linestyle=("--", "-", "-.", (0, (5, 1)))[i % 4], label=label,
                linewidth=1.4)
    ax.scatter(*train, s=16, color=PALETTE[0], edgecolors="black", linewidths=0.4,
               zorder=3, label="training points")
    ax.set(xlabel="$x$", ylabel="$y$", ylim=ylim)
    # a white box, and room above the data, so that no curve runs through it
    ax.legend(fontsize=7, loc="upper center", ncol=2, frameon=True, facecolor="white",
              edgecolor="none", framealpha=0.95)
    return ax.figure


def plot_gap_vs_size(sizes, train, test, *, ax=None, ylabel: str = "loss",
                     title: str | None = None, floor: float | None = None):
    """Training and test error against training-set size (log x), the gap
    between them shaded.

    Args:
        sizes: training-set sizes; train, test: the errors measured at each.
        floor: if given, a horizontal line (e.g. the noise level).
    Returns:
        The ``Figure``.
    """
    if not len(sizes) == len(train) == len(test):
        raise ValueError(f"sizes, train and test must have equal lengths, got "
                         f"{len(sizes)}, {len(train)} and {len(test)}")
    if ax is None:
        _, ax = new_figure(height=3.2)
    ax.fill_between(sizes, train, test, color=PALETTE[4], alpha=0.25, linewidth=0,
                    label="gap (test - training)")
    ax.plot(sizes, train, marker="o", markersize=4, color=PALETTE[0],
            linestyle="--", label="training")
    ax.plot(sizes, test, marker="s", markersize=4, color=PALETTE[1], linestyle="-",
            label="test")
    if floor is not None:
        ax.axhline(floor, color="#666666", linestyle=":", linewidth=1.2,
                   label=r"noise level $\sigma^2$")
    ax.set(xscale="log", xlabel="training-set size $n$", ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax.figure
