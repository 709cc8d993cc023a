"""Figures of the chapter "Predicting the next word": the path from a word to
its embedding, and a labelled 2-D map of learned embeddings."""

from collections.abc import Sequence

import matplotlib.patches as mpatches
import torch

from introdl.figures import diagrams
from introdl.figures.style import PALETTE, new_figure

__all__ = ["draw_embedding", "plot_embeddings_2d"]


def draw_embedding(words: Sequence[str] = ("cat", "dog", "cake"), vocab_size: int = 8,
                   embed_dim: int = 3, seed: int = 0):
    """Diagram: vocabulary -> index -> one-hot vector -> learned embedding.

    Each of ``words`` gets an index, a one-hot column of length ``vocab_size``
    and a dense column of ``embed_dim`` numbers (random, for the picture).
    Returns the ``Figure``.
    """
    if len(words) == 0:
        raise ValueError("words must hold at least one word")
    n, cell = len(words), 0.42
    top = 1.2 * n + 0.4
    fig, ax = diagrams.new_diagram(6.4, 0.45 * (top + 1.2), xlim=(0, 12),
                                   ylim=(-0.2, top + 1.0))
    values = torch.randn(n, embed_dim, generator=torch.Generator().manual_seed(seed))
    x_hot, x_emb = 3.5, 9.4  # left edges of the one-hot and embedding cells
    x_hot_end = x_hot + vocab_size * cell
    for x, title in ((0.9, "vocabulary"), (2.6, "index"),
                     ((x_hot + x_hot_end) / 2, "one-hot"),
                     (x_emb + 0.75 * (embed_dim - 1) / 2, "embedding")):
        diagrams.caption(ax, (x, top + 0.6), title, fontsize=10)
    for k, word in enumerate(words):
        y, idx = top - 0.4 - 1.2 * k, k + 2
        diagrams.box(ax, (0.9, y), word, width=1.4, height=0.6, kind="input")
        diagrams.box(ax, (2.6, y), str(idx), width=0.6, height=0.6, kind="plain")
        diagrams.arrow(ax, (1.6, y), (2.3, y), r_start=0, r_end=0)
        diagrams.arrow(ax, (2.9, y), (x_hot - 0.05, y), r_start=0, r_end=0)
        for j in range(vocab_size):  # one-hot cells
            on = j == idx
            ax.add_patch(mpatches.Rectangle(
                (x_hot + j * cell, y - 0.19), cell - 0.04, 0.38, edgecolor="black",
                facecolor=PALETTE[0] if on else "white", linewidth=0.8))
            ax.text(x_hot + j * cell + 0.19, y, "1" if on else "0", ha="center",
                    va="center", fontsize=7, color="white" if on else "black")
        diagrams.arrow(ax, (x_hot_end + 0.1, y), (x_emb - 0.35, y), r_start=0,
                       r_end=0)
        ax.text((x_hot_end + x_emb) / 2 - 0.1, y + 0.3, r"$\times\, W$",
                ha="center", va="center", fontsize=9, color=PALETTE[1])
        for j, v in enumerate(values[k].tolist()):  # dense cells
            ax.text(x_emb + j * 0.75, y, f"{v:+.1f}", ha="center", va="center",
                    fontsize=8, bbox=dict(boxstyle="square,pad=0.25",
                                          facecolor="#D9F0E6", edgecolor="black"))
    diagrams.caption(ax, ((x_hot + x_hot_end) / 2, 0.1),
                     f"V = {vocab_size} numbers, one of them 1")
    diagrams.caption(ax, (x_emb + 0.75 * (embed_dim - 1) / 2, 0.1),
                     f"d = {embed_dim} learned numbers")
    return fig


def _label_points(ax, points, words, fontsize: float = 7):
    """Write each word beside its point, moving a label up or down (greedily)
    when it would overlap one already placed, so crowded clusters stay legible."""
    ax.figure.canvas.draw()  # fixes the data-to-pixel transform
    to_px = ax.transData.transform
    scale = ax.figure.dpi / 72  # pixels per point
    placed = []  # (x0, x1, y0, y1) of labels, in pixels
    for (x, y), word in sorted(zip(points, words), key=lambda p: -p[0][1]):
        px, py = to_px((x, y))
        w, h = 0.6 * fontsize * len(word) * scale, 1.1 * fontsize * scale
        for dy in (2, -10, 12, -20, 22, -30, 32, -40, 42):
            x0, y0 = px + 3 * scale, py + dy * scale
            if not any(x0 < b[1] and b[0] < x0 + w and y0 < b[3] and b[2] < y0 + h
                       for b in placed):
                break
        placed.append((x0, x0 + w, y0, y0 + h))
        ax.annotate(word, (x, y), xytext=(3, dy), textcoords="offset points",
                    fontsize=fontsize, arrowprops=None if abs(dy) < 12 else dict(
                        arrowstyle="-", color="#999999", linewidth=0.5))


def plot_embeddings_2d(points, words: Sequence[str],
                       groups: Sequence[str] | None = None, *, ax=None,
                       title: str | None = None):
    """Scatter 2-D points (e.g. :func:`introdl.text.pca_2d` of embeddings),
    each labelled with its word; points of the same group share a colour and a
    marker.

    Args:
        points: ``(n, 2)``; words: ``n`` labels; groups: ``n`` group names or None.
    Returns:
        The ``Figure``.
    """
    points = torch.as_tensor(points).detach()
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(words):
        raise ValueError(f"points must have shape ({len(words)}, 2), got "
                         f"{tuple(points.shape)}")
    fig, ax = new_figure(height=4.8) if ax is None else (ax.figure, ax)
    groups = list(groups) if groups is not None else ["word"] * len(words)
    markers = "osD^v<>ph*X"
    colours = [*PALETTE, "#F0E442"]  # Okabe-Ito's eighth colour: eight word groups
    for k, group in enumerate(dict.fromkeys(groups)):
        idx = [i for i, g in enumerate(groups) if g == group]
        ax.scatter(points[idx, 0], points[idx, 1], s=28, marker=markers[k % 11],
                   color=colours[k % len(colours)], label=group, edgecolors="black",
                   linewidths=0.4)
    ax.set(xlabel="first principal component", ylabel="second principal component")
    if title:
        ax.set_title(title)
    if len(set(groups)) > 1:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    _label_points(ax, points.tolist(), words)
    return fig
