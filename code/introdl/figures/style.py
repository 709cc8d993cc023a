"""The book's one plotting style and its generic figure helpers.

Call :func:`use_book_style` once at the top of a chapter. Every helper takes
data and an optional ``ax``, returns the ``Figure`` and never calls
``show()`` or ``savefig()``.

The palette is Okabe and Ito's colour-blind-safe set; each line also gets its
own dash pattern, so curves stay apart in a black-and-white print.
"""

from __future__ import annotations

import logging
import os
from typing import Mapping, Sequence

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure

__all__ = ["PALETTE", "LINESTYLES", "BOOK_RC", "use_book_style", "new_figure",
           "panel_axes", "plot_curves", "plot_heatmap", "plot_decision_regions",
           "log_ticks"]

#: The colour-blind-safe colours of Okabe and Ito (blue, vermillion, green, purple,
#: orange, sky blue and black).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
           "#000000"]
#: Dash patterns paired with :data:`PALETTE`, for black-and-white prints.
LINESTYLES = ["-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)),
              (0, (1, 1))]

#: The matplotlib settings of the book (see :func:`use_book_style`).
BOOK_RC = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "figure.facecolor": "white",  # a white card reads in light and dark mode
    "savefig.facecolor": "white",
    "savefig.bbox": "tight",
    # the resolution of the parts of a vector figure drawn as images (rasterized=True)
    "savefig.dpi": 160,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": cycler(color=PALETTE) + cycler(linestyle=LINESTYLES),
    "image.cmap": "viridis",
    "lines.linewidth": 1.8,
    "svg.hashsalt": "introdl",  # stable ids: identical SVGs across builds
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}


def use_book_style(notebook: bool = True) -> None:
    """Apply the book's matplotlib style.

    Sets :data:`BOOK_RC`, fixes ``SOURCE_DATE_EPOCH`` (unless already set) so
    that SVG and PDF files carry a fixed date, and, inside Jupyter when
    ``notebook`` is true, makes inline figures SVG only and shortens tracebacks
    to the error message and the line that raised it. (The PDF book converts
    the SVG when it is built; drawing every figure a second time, as PDF, took
    between a fifth and a third of a chapter's execution time.)
    """
    mpl.rcParams.update(BOOK_RC)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    # fontTools warns about the fixed font timestamps when subsetting for PDF
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    if not notebook:
        return
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing to configure
        return
    shell = get_ipython()
    if shell is not None:
        set_matplotlib_formats("svg")
        shell.run_line_magic("xmode", "Minimal")


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4,
               height: float | None = None, **kwargs):
    """A figure of ``nrows x ncols`` axes sized for the page.

    Returns ``(fig, axes)`` as ``matplotlib.pyplot.subplots`` does. The
    figure is not registered with pyplot, so Jupyter shows it only where it is
    returned or glued (never a second time at the end of the cell), and it is
    freed when no longer referenced.
    """
    if height is None:
        height = 3.2 * nrows if ncols > 1 else 3.6 * nrows
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def panel_axes(count: int, axes=None, *, height: float, what: str = "panels"):
    """``count`` axes side by side with a shared y axis: ``axes`` if given (it must
    hold ``count``), else a new figure's. Returns a list of axes."""
    if count == 0:
        raise ValueError(f"{what} must hold at least one panel")
    if axes is None:
        _, axes = new_figure(ncols=count, height=height, sharey=True, squeeze=False)
        axes = list(axes[0])
    if len(axes) != count:
        raise ValueError(f"axes must hold {count} axes, got {len(axes)}")
    return list(axes)


def _fig_ax(ax):
    if ax is None:
        fig, ax = new_figure()
        return fig, ax
    return ax.figure, ax


def plot_curves(curves: Mapping[str, Sequence[float]], *, x=None, ax=None,
                xlabel: str = "epoch", ylabel: str = "loss", title: str | None = None,
                logy: bool = False):
    """Plot named curves (e.g. training and validation loss) on one axes.

    Args:
        curves: label -> sequence of y values.
        x: shared x values; default ``0..len-1`` for each curve.
    Returns:
        The ``Figure``.
    """
    if not curves:
        raise ValueError("curves must contain at least one named curve")
    fig, ax = _fig_ax(ax)
    for label, ys in curves.items():
        xs = range(len(ys)) if x is None else x
        ax.plot(list(xs), list(ys), label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if xlabel == "epoch":  # no ticks at epoch 1.5
        ax.xaxis.get_major_locator().set_params(integer=True)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    return fig


def plot_heatmap(matrix, *, ax=None, xlabels=None, ylabels=None,
                 xlabel: str = "", ylabel: str = "", title: str | None = None,
                 cmap: str = "viridis", vmin=None, vmax=None, colorbar: bool = True,
                 annotate: bool = False):
    """Show a 2-D array as a heatmap (attention weights, hidden states, ...).

    Args:
        matrix: array-like of shape ``(rows, cols)``.
        xlabels, ylabels: tick labels for columns and rows.
        annotate: write each value in its cell.
    Returns:
        The ``Figure``.
    """
    import numpy as np

    m = np.asarray(matrix.detach().cpu() if hasattr(matrix, "detach") else matrix)
    if m.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got shape {m.shape}")
    fig, ax = _fig_ax(ax)
    im = ax.imshow(m, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto",
                   interpolation="nearest")
    ax.grid(False)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), labels=list(xlabels), rotation=90)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), labels=list(ylabels))
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    if annotate:
        mid = (np.nanmax(m) + np.nanmin(m)) / 2
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if v < mid else "black")
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def plot_decision_regions(predict, X, y, *, ax=None, title: str | None = None,
                          resolution: int = 200, margin: float = 0.5):
    """Shade where a binary classifier predicts class 1, over its data.

    Args:
        predict: function mapping a ``(m, 2)`` float tensor to ``(m,)``
            probabilities of class 1.
        X: points, shape ``(n, 2)``; y: labels 0/1, shape ``(n,)``.
    Returns:
        The ``Figure``.
    """
    import numpy as np
    import torch

    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {tuple(X.shape)}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {tuple(y.shape)}")
    fig, ax = _fig_ax(ax)
    lo, hi = X.min(0).values - margin, X.max(0).values + margin
    gx, gy = torch.meshgrid(torch.linspace(lo[0], hi[0], resolution),
                            torch.linspace(lo[1], hi[1], resolution), indexing="xy")
    with torch.no_grad():
        p = predict(torch.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
    cmap = mpl.colors.LinearSegmentedColormap.from_list(
        "introdl_regions", [PALETTE[0], "white", PALETTE[1]])
    # the shading and the points are an image in SVG and PDF (rasterized): as
    # vectors, the shading over a fine grid and hundreds of markers made the file
    # several hundred KB; the boundary line, axes and text stay vectors
    ax.contourf(gx.numpy(), gy.numpy(), p.numpy(), levels=np.linspace(0, 1, 11),
                cmap=cmap, alpha=0.45, rasterized=True)
    ax.contour(gx.numpy(), gy.numpy(), p.numpy(), levels=[0.5], colors="black",
               linewidths=1.2)
    for label, marker, color in ((0, "o", PALETTE[0]), (1, "^", PALETTE[1])):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=14, marker=marker, color=color,
                   edgecolors="black", linewidths=0.4, label=f"class {label}",
                   rasterized=True)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return fig


def log_ticks(ax, values: Sequence[float], *, y: bool = False) -> None:
    """Make ``ax``'s x axis (or both axes with ``y=True``) logarithmic, with
    major ticks at ``values`` labelled as plain numbers and no minor ticks."""
    ax.set_xscale("log")
    if y:
        ax.set_yscale("log")
    ax.set_xticks(list(values), labels=[f"{v:g}" for v in values])
    ax.minorticks_off()
