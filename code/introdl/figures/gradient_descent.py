"""Figures of the chapter "Loss optimization and gradient descent" (and the
learning-rate figure of the chapter "Learning rates", drawn on the same kind of
one-weight landscape)."""

from collections.abc import Callable, Mapping

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from introdl.figures.style import LINESTYLES, PALETTE, new_figure

__all__ = ["plot_loss_surface", "plot_loss_contours", "plot_learning_rates"]


def plot_loss_surface(A, B, L, *, marks: Mapping[str, tuple] | None = None, ax=None,
                      xlabel: str = "$a$", ylabel: str = "$b$",
                      zlabel: str = "loss $J$"):
    """A 3-D surface of the loss ``L`` over the grid ``(A, B)``.

    Args:
        A, B, L: ``(m, m)`` arrays, as :func:`~introdl.landscape.loss_grid`
            returns them.
        marks: label -> ``(a, b)`` points to mark on the surface.
        ax: a 3-D axes (``projection="3d"``); a new figure if ``None``.
    Returns:
        The ``Figure``.
    """
    if ax is None:
        fig, ax = new_figure(width=5.6, height=4.2,
                             subplot_kw={"projection": "3d"})
    fig = ax.figure
    ax.plot_surface(A.numpy(), B.numpy(), L.numpy(), cmap="viridis", linewidth=0,
                    antialiased=False, rstride=1, cstride=1, alpha=0.95,
                    rasterized=True)
    for label, (a, b) in (marks or {}).items():
        i = int(((A[0] - a).abs()).argmin())
        j = int(((B[:, 0] - b).abs()).argmin())
        z = float(L[j, i])
        ax.plot([a, a], [b, b], [z, z + 0.35 * float(L.max() - L.min())],
                color="black", linewidth=1.0, zorder=10)
        ax.text(a, b, z + 0.4 * float(L.max() - L.min()), label, ha="center",
                fontsize=10, zorder=11)
    ax.set(xlabel=xlabel, ylabel=ylabel, zlabel=zlabel)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax.view_init(elev=45, azim=-140)
    return fig


def plot_loss_contours(A, B, L, *, paths: Mapping[str, torch.Tensor] | None = None,
                       marks: Mapping[str, tuple] | None = None, ax=None,
                       levels: int = 25, colors=None, title: str | None = None,
                       xlabel: str = "$a$", ylabel: str = "$b$",
                       cbar_label: str | None = "loss $J$", legend: bool = True):
    """Contour lines of ``L`` over ``(A, B)``, with optional descent paths.

    Args:
        paths: label -> ``(T + 1, 2)`` iterates; each is drawn from a circle
            (its start) to a cross (its end). Labels starting with ``_`` are
            left out of the legend.
        marks: label -> ``(a, b)`` points written on the map.
        colors: one colour per path (default: the book's palette).
        cbar_label: the colour bar's label (``None``: no colour bar).
        legend: draw the legend of the labelled paths.
    Returns:
        The ``Figure``.
    """
    fig, ax = (new_figure(width=5.0, height=4.2) if ax is None else (ax.figure, ax))
    # the map is an image in SVG and PDF (rasterized): as vector paths the many
    # level sets over a fine grid made the file several hundred KB; the paths,
    # marks and labels drawn on it stay vectors
    filled = ax.contourf(A.numpy(), B.numpy(), L.numpy(), levels=levels,
                         cmap="Greys_r", alpha=0.45, rasterized=True)
    ax.contour(A.numpy(), B.numpy(), L.numpy(), levels=filled.levels, colors="black",
               linewidths=0.4, alpha=0.6)
    if cbar_label is not None:
        fig.colorbar(filled, ax=ax, shrink=0.85, label=cbar_label)
    colors = colors or [PALETTE[i % len(PALETTE)] for i in range(len(paths or {}))]
    for (label, path), color in zip((paths or {}).items(), colors):
        p = path.detach()
        style = LINESTYLES[PALETTE.index(color) % len(LINESTYLES)] \
            if color in PALETTE else "-"
        ax.plot(p[:, 0], p[:, 1], color=color, linestyle=style, linewidth=1.6,
                label=label)
        ax.plot(p[0, 0], p[0, 1], "o", color=color, markeredgecolor="black",
                markersize=6)
        ax.plot(p[-1, 0], p[-1, 1], "X", color=color, markeredgecolor="black",
                markersize=8)
    for label, (a, b) in (marks or {}).items():
        ax.plot(a, b, "s", color="white", markeredgecolor="black", markersize=5)
        ax.annotate(label, (a, b), xytext=(5, 5), textcoords="offset points",
                    fontsize=10)
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(float(A.min()), float(A.max())),
           ylim=(float(B.min()), float(B.max())), aspect="equal")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.grid(False)
    if title:
        ax.set_title(title)
    if legend and paths and any(not k.startswith("_") for k in paths):
        ax.legend(loc="upper right", frameon=True, fontsize=8)
    return fig


def plot_learning_rates(f: Callable[[torch.Tensor], torch.Tensor],
                        runs: Mapping[str, tuple], w_range=(-4.5, 5.0),
                        y_max: float = 8.0, *, axes=None):
    """Gradient descent with several learning rates on a one-weight loss ``f``.

    Args:
        runs: label -> ``(path, losses)`` as
            :func:`~introdl.landscape.gradient_descent` returns.
        w_range: the weights shown in the left panel; ``y_max`` its top.
        axes: a pair of axes to draw on; a new figure if ``None``.
    Returns:
        The ``Figure``: left, ``f`` with each run's iterates (connected in
        order, larger markers early); right, the loss against the step.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.2)
    ax_w, ax_l = axes
    w = torch.linspace(*w_range, 400, dtype=torch.float64)
    ax_w.plot(w, f(w), color="black", linewidth=1.2, linestyle="-")
    markers = ["o", "s", "^", "D"]
    finite = [losses[torch.isfinite(losses)] for _, losses in runs.values()]
    f_min = min([float(f(w).min())] + [float(v.min()) for v in finite if len(v)])
    for i, (label, (path, losses)) in enumerate(runs.items()):
        color, style = PALETTE[i], LINESTYLES[i]
        ws, js = path.numpy(), losses.numpy()
        shown = np.abs(ws) < 1e3
        ax_w.plot(ws[shown], js[shown], color=color, linestyle=style, linewidth=0.8,
                  marker=markers[i], markersize=4, alpha=0.9, label=label)
        ax_l.plot(np.arange(len(js)), np.maximum(js - f_min, 1e-12), color=color,
                  linestyle=style, marker=markers[i], markersize=3, label=label)
    ax_w.set(xlabel="weight $w$", ylabel="loss $J(w)$", xlim=w_range,
             ylim=(-0.5, y_max))
    ax_l.set(xlabel="step", ylabel="$J(w_t) - \\min J$", yscale="log")
    ax_l.legend(loc="center right", fontsize=8, frameon=True)
    return ax_w.figure
