"""Figures of the chapter "From perceptrons to neural networks"."""

import math
from collections.abc import Mapping, Sequence

import torch

from introdl.experiments.neural_networks import DepthWidthRun
from introdl.figures import diagrams
from introdl.figures.style import new_figure, plot_decision_regions

__all__ = ["plot_depth_width", "draw_network"]


def plot_depth_width(results: Mapping[str, DepthWidthRun], X: torch.Tensor,
                     y: torch.Tensor, ncols: int = 2, *, axes=None):
    """Decision regions of each network of
    :func:`~introdl.experiments.neural_networks.depth_width_demo`.

    Each panel is titled with its name, its number of parameters and its
    training accuracy; panels left over are hidden. ``axes``: axes to draw on
    (at least one per result); a new grid of ``ncols`` columns if ``None``.
    Returns the ``Figure``.
    """
    if axes is None:
        nrows = math.ceil(len(results) / ncols)
        _, axes = new_figure(ncols=ncols, nrows=nrows, width=5.2,
                             height=2.75 * nrows, squeeze=False)
    axes = list(getattr(axes, "flat", axes))
    if len(axes) < len(results):
        raise ValueError(f"axes must hold at least {len(results)} axes, "
                         f"got {len(axes)}")
    for ax, (name, r) in zip(axes, results.items()):
        predict = lambda Z, m=r.model: torch.softmax(m(Z), dim=1)[:, 1]  # noqa: E731
        title = f"{name}\n{r.num_params} parameters, {r.accuracy:.1%} correct"
        plot_decision_regions(predict, X, y, ax=ax, title=title, resolution=150,
                              margin=0.25)
        ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
        ax.title.set_fontsize(9)
    for ax in axes[len(results):]:
        ax.axis("off")
    return axes[0].figure


def _layer_ys(size: int, height: float) -> list[float]:
    gap = min(1.0, (height - 1.0) / max(size - 1, 1))
    top = height / 2 + gap * (size - 1) / 2
    return [top - i * gap for i in range(size)]


def draw_network(sizes: Sequence[int], *, ax=None,
                 layer_names: Sequence[str] | None = None,
                 weight_names: Sequence[str] | None = None,
                 node_labels: bool = True, height: float = 4.6):
    """Diagram of a fully connected feed-forward network.

    Args:
        sizes: neurons per layer, inputs first, e.g. ``[3, 4, 2]``.
        ax: axes to draw on; a new diagram if ``None``.
        layer_names: a caption under each layer ("inputs", "hidden", ...).
        weight_names: a label over each set of connections, e.g. ``"$W^{(1)}$"``.
        node_labels: write ``x_i``, ``h^{(k)}_i`` and ``y_hat_i`` in the nodes.
    Returns:
        The ``Figure``.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive layer sizes, "
                         f"got {sizes}")
    width = 2.2 * (len(sizes) - 1) + 1.2
    if ax is None:
        inches = min(6.4, 0.62 * width)
        _, ax = diagrams.new_diagram(inches, inches * (height + 0.3) / width)
    ax.set(xlim=(0, width), ylim=(-0.3, height), aspect="equal")
    ax.axis("off")
    xs = [0.6 + 2.2 * k for k in range(len(sizes))]
    ys = [_layer_ys(s, height) for s in sizes]
    r = min(0.3, 0.42 * min(1.0, (height - 1.0) / max(max(sizes) - 1, 1)))
    for k in range(len(sizes) - 1):  # connections first, nodes on top
        for y0 in ys[k]:
            for y1 in ys[k + 1]:
                diagrams.arrow(ax, (xs[k], y0), (xs[k + 1], y1), r_start=r,
                               r_end=r, color="#555555")
        if weight_names:
            ax.text((xs[k] + xs[k + 1]) / 2, height - 0.1, weight_names[k],
                    ha="center", va="center", fontsize=10)
    last = len(sizes) - 1
    for k, (x, layer_ys) in enumerate(zip(xs, ys)):
        kind = "input" if k == 0 else "output" if k == last else "hidden"
        for i, y in enumerate(layer_ys, start=1):
            label = ""
            if node_labels:
                label = (f"$x_{i}$" if k == 0 else rf"$\hat{{y}}_{i}$" if k == last
                         else f"$h^{{({k})}}_{i}$")
            diagrams.node(ax, (x, y), label, kind=kind, radius=r,
                          fontsize=9 if k in (0, last) else 8)
        if layer_names:
            diagrams.caption(ax, (x, -0.1), layer_names[k])
    return ax.figure
