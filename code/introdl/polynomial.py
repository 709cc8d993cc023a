"""Capacity, underfitting and overfitting, on data small enough to see.

Two experiments back the chapter "Overfitting":

* polynomial regression on noisy samples of ``sin(pi x)``: the degree of the
  polynomial is the model's capacity, and least squares fits it exactly;
* a small network on the 8x8 digits trained on more and more examples: the
  gap between training and test loss shrinks as the training set grows.
"""

from __future__ import annotations

import math

import torch

from introdl.checks import (check_ndim, check_number, check_positive_int,
                             check_tensor)
from introdl.losses import mse

__all__ = ["true_function", "noisy_sine", "polynomial_features", "fit_polynomial",
           "predict_polynomial", "capacity_curve", "polynomial_size_curve",
           "digits_size_curve", "plot_fits", "plot_capacity_curve",
           "plot_gap_vs_size"]


def true_function(x: torch.Tensor) -> torch.Tensor:
    """The signal behind the noisy data: ``sin(pi x)``, any shape."""
    return torch.sin(math.pi * x)


def noisy_sine(n: int, noise: float = 0.3, *, grid: bool = False, seed: int = 0):
    """``n`` noisy samples ``y = sin(pi x) + noise * eps`` with ``eps ~ N(0, 1)``.

    Args:
        n: number of samples.
        noise: standard deviation of the noise (its square is the lowest mean
            squared error any model can reach on new data).
        grid: place ``x`` evenly on ``[-1, 1]``; otherwise draw it uniformly.
        seed: seeds the draws.
    Returns:
        ``(x, y)``, both of shape ``(n,)`` and dtype float64.
    """
    check_positive_int("n", n)
    check_number("noise", noise, low=0)
    g = torch.Generator().manual_seed(seed)
    if grid:
        x = torch.linspace(-1, 1, n, dtype=torch.float64)  # (n,)
    else:
        x = 2 * torch.rand(n, generator=g, dtype=torch.float64) - 1  # (n,)
    eps = torch.randn(n, generator=g, dtype=torch.float64)  # (n,)
    y = true_function(x) + noise * eps
    return x, y


def polynomial_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """The powers ``x^0, x^1, ..., x^degree`` of ``x`` ``(n,)`` as columns:
    a matrix of shape ``(n, degree + 1)``."""
    check_tensor("x", x, floating=True)
    check_ndim("x", x, (1,))
    check_positive_int("degree", degree, allow_zero=True)
    powers = torch.arange(degree + 1, dtype=x.dtype)  # (degree + 1,)
    return x[:, None] ** powers  # (n, degree + 1)


def fit_polynomial(x: torch.Tensor, y: torch.Tensor, degree: int,
                   l2: float = 0.0) -> torch.Tensor:
    """Least-squares polynomial of the given degree through ``(x, y)``.

    Minimizes ``mean((Phi w - y)^2) + l2 * sum(w[1:]^2)`` where ``Phi`` holds
    the powers of ``x``; ``l2 > 0`` is ridge regression (weight decay) and
    leaves the constant term ``w[0]`` unpenalized.

    Args:
        x, y: shape ``(n,)``, floating point.
        degree: highest power, ``>= 0``.
        l2: strength of the penalty, ``>= 0``.
    Returns:
        Coefficients ``w`` of shape ``(degree + 1,)``, lowest power first.
    """
    check_tensor("y", y, floating=True)
    check_number("l2", l2, low=0)
    phi = polynomial_features(x, degree)  # (n, degree + 1)
    if y.shape != x.shape:
        raise ValueError(f"y must have the shape of x {tuple(x.shape)}, got "
                         f"{tuple(y.shape)}")
    if l2 > 0:  # extra rows sqrt(n * l2) * I make lstsq add the penalty
        eye = torch.eye(degree + 1, dtype=x.dtype)[1:]  # (degree, degree + 1)
        penalty = math.sqrt(len(x) * l2) * eye
        phi = torch.cat([phi, penalty])  # (n + degree, degree + 1)
        y = torch.cat([y, torch.zeros(degree, dtype=y.dtype)])
    return torch.linalg.lstsq(phi, y[:, None]).solution[:, 0]  # (degree + 1,)


def predict_polynomial(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Evaluate the polynomial with coefficients ``w`` ``(d + 1,)`` at ``x``
    ``(n,)``; returns shape ``(n,)``."""
    check_tensor("w", w, floating=True)
    check_ndim("w", w, (1,))
    return polynomial_features(x, len(w) - 1) @ w  # (n,)


def capacity_curve(train, test, degrees, l2: float = 0.0) -> dict:
    """Training and test MSE of least-squares polynomials of each degree.

    Args:
        train, test: pairs ``(x, y)`` of tensors of shape ``(n,)``.
        degrees: the degrees to fit.
    Returns:
        ``{"degrees": list, "train_mse": list, "test_mse": list}``.
    """
    out = {"degrees": list(degrees), "train_mse": [], "test_mse": []}
    for degree in out["degrees"]:
        w = fit_polynomial(*train, degree, l2)
        for part, (x, y) in (("train", train), ("test", test)):
            out[f"{part}_mse"].append(mse(predict_polynomial(w, x), y).item())
    return out


def polynomial_size_curve(sizes, degree: int, test, noise: float = 0.3,
                          seed: int = 0) -> dict:
    """Fit one polynomial degree to training sets of growing size.

    Each training set has ``x`` evenly spaced on ``[-1, 1]`` (see
    :func:`noisy_sine`); ``test`` is a pair ``(x, y)``.
    Returns ``{"sizes": list, "train": list, "test": list}`` of MSEs.
    """
    out = {"sizes": list(sizes), "train": [], "test": []}
    for n in out["sizes"]:
        x, y = noisy_sine(n, noise, grid=True, seed=seed)
        w = fit_polynomial(x, y, degree)
        out["train"].append(mse(predict_polynomial(w, x), y).item())
        out["test"].append(mse(predict_polynomial(w, test[0]), test[1]).item())
    return out


def digits_size_curve(sizes, hidden_size: int = 64, num_steps: int = 200,
                      lr: float = 1e-2, seed: int = 0) -> dict:
    """Train the same small network on the first ``n`` digits for each ``n``.

    The network is ``64 -> hidden_size -> 10`` with a ReLU, trained by Adam on
    the full training subset (one batch, so every size gets ``num_steps``
    updates) from the same initial weights.

    Returns:
        ``{"sizes", "train_loss", "test_loss", "train_acc", "test_acc"}``,
        lists measured after training (cross-entropy and accuracy).
    """
    from introdl.data import load_digits
    from introdl.training import accuracy, evaluate, fit

    loss_fn = torch.nn.functional.cross_entropy
    out = {k: [] for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    out["sizes"] = list(sizes)
    for n in out["sizes"]:
        split = load_digits(n_train=n, seed=seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # the same initial weights for every size
            model = torch.nn.Sequential(torch.nn.Linear(64, hidden_size),
                                        torch.nn.ReLU(),
                                        torch.nn.Linear(hidden_size, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        fit(model, split.train, loss_fn=loss_fn, optimizer=optimizer,
            num_epochs=num_steps, progress=False)
        for part, data in (("train", split.train), ("test", split.test)):
            loss, acc = evaluate(model, data, loss_fn, accuracy)
            out[f"{part}_loss"].append(loss)
            out[f"{part}_acc"].append(acc)
    return out


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
    from introdl.figures.style import PALETTE, new_figure

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


def plot_capacity_curve(curve: dict, *, ax=None, noise: float | None = None,
                        ymin: float = 1e-4):
    """Training and test MSE against polynomial degree (log scale), the best
    degree marked and the under- and overfitting sides shaded.

    Args:
        curve: the output of :func:`capacity_curve`.
        noise: if given, draw the noise level ``noise**2``, the lowest test MSE.
        ymin: bottom of the axis; errors below it (an interpolating fit has a
            training error of about 0) are drawn on it as a triangle.
    Returns:
        The ``Figure``.
    """
    from introdl.figures.style import PALETTE, new_figure

    if ax is None:
        _, ax = new_figure(height=3.2)
    d, train, test = curve["degrees"], curve["train_mse"], curve["test_mse"]
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
    from introdl.figures.style import PALETTE, new_figure

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
