"""Figures of the chapter "Introduction"."""

import math

import matplotlib as mpl
import matplotlib.patches as mpatches
import torch

from introdl.checks import check_positive_int
from introdl.figures import diagrams
from introdl.figures.style import new_figure

__all__ = ["draw_ai_nesting", "plot_digit_samples", "plot_detectors"]


def draw_ai_nesting(*, ax=None):
    """Diagram: deep learning inside machine learning inside artificial
    intelligence inside intelligence, as nested rounded boxes. Draws on ``ax``
    if given. Returns the ``Figure``."""
    if ax is None:
        _, ax = diagrams.new_diagram(6.4, 3.4, xlim=(0, 12.8), ylim=(0, 6.8))
    else:
        ax.set(xlim=(0, 12.8), ylim=(0, 6.8), aspect="equal")
        ax.axis("off")
    layers = [("intelligence", "process information to decide or act", "plain"),
              ("artificial intelligence", "computers that do it", "input"),
              ("machine learning", "learn it from data", "hidden"),
              ("deep learning", "learn the features too,\nwith deep networks",
               "output")]
    for k, (name, gist, kind) in enumerate(layers):
        x0, y0, top = 0.2 + 1.3 * k, 0.2 + 0.3 * k, 6.6 - 1.05 * k
        w, h = 12.4 - 2.6 * k, top - y0
        ax.add_patch(mpatches.FancyBboxPatch(
            (x0, y0), w, h, boxstyle="round,pad=0,rounding_size=0.4",
            facecolor=diagrams.NODE_STYLES[kind], edgecolor="black", linewidth=1.2))
        y_name = top - 0.3 if k < 3 else (y0 + top) / 2 + 0.3
        ax.text(6.4, y_name, name, ha="center", va="center", fontsize=11,
                weight="bold")
        ax.text(6.4, y_name - 0.3, gist, ha="center", va="top", fontsize=8.5,
                style="italic", color="#333333")
    return ax.figure


def _mosaic(images: torch.Tensor, ncols: int, pad: int = 1) -> torch.Tensor:
    """Tile ``(k, h, w)`` images into one array, ``ncols`` per row, separated
    by ``pad`` pixels of NaN (drawn as background)."""
    k, h, w = images.shape
    nrows = math.ceil(k / ncols)
    out = torch.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), float("nan"))
    for idx, img in enumerate(images):
        r, c = divmod(idx, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return out


def _show_tiles(ax, images: torch.Tensor, titles: list[str], ncols: int,
                cmap: str = "gray_r") -> None:
    """Draw ``images`` ``(k, 8, 8)`` as one mosaic on ``ax``, each tile scaled
    to its own largest absolute value, with a title above each tile."""
    scale = images.flatten(1).abs().amax(1).clamp(min=1e-12)  # (k,)
    tiles = images / scale[:, None, None] * 0.5 + 0.5  # (k, 8, 8): 0 -> grey
    colormap = mpl.colormaps[cmap].with_extremes(bad="white")
    ax.imshow(_mosaic(tiles, ncols, pad=3).numpy(), cmap=colormap, vmin=0, vmax=1,
              interpolation="nearest")
    for idx, title in enumerate(titles):
        r, c = divmod(idx, ncols)
        ax.text(c * 11 + 3.5, r * 11 - 0.9, title, ha="center", va="bottom",
                fontsize=7.5)
    ax.set_axis_off()


def plot_digit_samples(X: torch.Tensor, y: torch.Tensor, per_class: int = 1, *,
                       ax=None):
    """``per_class`` example images of each digit 0-9, labelled.

    Args:
        X: ``(n, 64)`` flattened 8x8 images in ``[0, 1]``; y: ``(n,)`` labels.
        ax: axes to draw on; a new figure if ``None``.
    Returns:
        The ``Figure``.
    """
    check_positive_int("per_class", per_class)
    idx = [(y == digit).nonzero().flatten()[row].item()
           for row in range(per_class) for digit in range(10)]
    images = X[idx].reshape(-1, 8, 8) * 2 - 1  # (10 * per_class, 8, 8) in [-1, 1]
    if ax is None:
        _, ax = new_figure(width=6.4, height=0.75 * per_class + 0.3)
    titles = [str(digit) for digit in range(10)]
    _show_tiles(ax, images, titles, ncols=10)
    return ax.figure


def plot_detectors(hand: torch.Tensor, names: list[str], learned: torch.Tensor,
                   ncols: int = 6, *, axes=None):
    """Hand-designed detectors (left) beside learned first-layer
    weights (right), each an 8x8 image drawn like the digits: dark is a
    positive weight (the detector wants ink there), light a negative one, and
    mid-grey zero. Each detector is scaled to its own largest weight.

    Args:
        hand: ``(K, 64)`` detectors; names: their ``K`` names.
        learned: ``(M, 64)`` weights, one row per hidden neuron.
        axes: a pair of axes to draw on; a new figure if ``None``.
    Returns:
        The ``Figure``.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, width=6.4, height=2.6)
    ax_h, ax_l = axes
    _show_tiles(ax_h, hand.detach().reshape(-1, 8, 8), names, ncols=ncols // 2 + 1)
    _show_tiles(ax_l, learned.detach().reshape(-1, 8, 8),
                [f"neuron {j + 1}" for j in range(len(learned))], ncols=ncols // 2 + 1)
    ax_h.set_title("designed by hand", fontsize=10, pad=14)
    ax_l.set_title("learned from data", fontsize=10, pad=14)
    return ax_h.figure
