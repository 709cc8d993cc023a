"""Primitives for node-and-edge diagrams (networks, computational graphs).

Diagrams are drawn with matplotlib, so they need no system package, render as
SVG and PDF like every other figure, and follow :mod:`introdl.figures.style`.
Coordinates are in data units of an axes whose aspect ratio is equal.
"""

from __future__ import annotations

import math

import matplotlib.patches as mpatches

from introdl.figures.style import PALETTE, new_figure

__all__ = ["new_diagram", "node", "box", "arrow", "caption", "NODE_STYLES",
           "diagram_axes"]

#: Fill colours (light, so black labels read, also in greyscale) by node kind.
NODE_STYLES = {
    "input": "#DCEBF7",
    "bias": "#EEEEEE",
    "hidden": "#D9F0E6",
    "op": "#FBE3D2",
    "output": "#F3DDEB",
    "state": "#FFF1CC",
    "plain": "white",
}


def new_diagram(width: float = 6.4, height: float = 3.2, *, xlim=(0, 10),
                ylim=(0, 5)):
    """An empty, frameless axes for a diagram. Returns ``(fig, ax)``."""
    fig, ax = new_figure(width=width, height=height)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def node(ax, xy, label: str = "", *, kind: str = "plain", radius: float = 0.4,
         fontsize: float = 11):
    """Draw a circular node at ``xy`` with ``label`` inside it."""
    if kind not in NODE_STYLES:
        raise ValueError(f"kind must be one of {sorted(NODE_STYLES)}, got {kind!r}")
    ax.add_patch(mpatches.Circle(xy, radius, facecolor=NODE_STYLES[kind],
                                 edgecolor="black", linewidth=1.2, zorder=3))
    ax.text(*xy, label, ha="center", va="center", fontsize=fontsize, zorder=4)


def box(ax, xy, label: str = "", *, width: float = 1.6, height: float = 0.8,
        kind: str = "op", fontsize: float = 10):
    """Draw a rounded box centred at ``xy`` with ``label`` inside it."""
    if kind not in NODE_STYLES:
        raise ValueError(f"kind must be one of {sorted(NODE_STYLES)}, got {kind!r}")
    x, y = xy
    ax.add_patch(mpatches.FancyBboxPatch(
        (x - width / 2, y - height / 2), width, height,
        boxstyle="round,pad=0.02,rounding_size=0.15", facecolor=NODE_STYLES[kind],
        edgecolor="black", linewidth=1.2, zorder=3))
    ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=4)


def _shorten(start, end, r_start, r_end):
    (x0, y0), (x1, y1) = start, end
    d = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / d, (y1 - y0) / d
    return (x0 + ux * r_start, y0 + uy * r_start), (x1 - ux * r_end, y1 - uy * r_end)


def arrow(ax, start, end, *, label: str | None = None, label_pos: float = 0.5,
          r_start: float = 0.4, r_end: float = 0.4, color: str = "black",
          style: str = "-|>", linestyle: str = "-", rad: float = 0.0,
          fontsize: float = 9, label_color: str | None = None):
    """Draw an arrow from ``start`` to ``end``, stopping at node borders.

    ``r_start``/``r_end`` are the radii of the nodes it connects; ``rad`` bends
    the arrow; ``label`` is written at fraction ``label_pos`` along it.
    """
    p0, p1 = _shorten(start, end, r_start, r_end)
    ax.add_patch(mpatches.FancyArrowPatch(
        p0, p1, arrowstyle=style, mutation_scale=12, color=color, linewidth=1.1,
        linestyle=linestyle, connectionstyle=f"arc3,rad={rad}", zorder=2))
    if label:
        lx = p0[0] + (p1[0] - p0[0]) * label_pos
        ly = p0[1] + (p1[1] - p0[1]) * label_pos
        ax.text(lx, ly, label, ha="center", va="center", fontsize=fontsize,
                color=label_color or PALETTE[1 if color == "black" else 6],
                bbox=dict(boxstyle="round,pad=0.1", facecolor="white",
                          edgecolor="none"), zorder=5)


def caption(ax, xy, text: str, *, fontsize: float = 9, color: str = "#444444"):
    """Write a small grey caption (e.g. "inputs") at ``xy``."""
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, color=color,
            style="italic")


def diagram_axes(ax=None, width: float = 6.4, height: float = 3.2, *, xlim=(0, 10),
                 ylim=(0, 5)):
    """The axes to draw a diagram on: ``ax`` (if given) set up as
    :func:`new_diagram` sets up a new one (limits, equal aspect, no frame),
    else the axes of a new diagram of ``width`` x ``height`` inches."""
    if ax is None:
        return new_diagram(width, height, xlim=xlim, ylim=ylim)[1]
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.axis("off")
    return ax
