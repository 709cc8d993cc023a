"""Figures of the chapter "Backpropagation": a computational graph of Values, the
error of finite differences against the step, and the scale of the signal
through a deep network for several initialisation rules."""

from collections.abc import Mapping

import torch

from introdl.autograd import Value
from introdl.experiments.backpropagation import DepthSignal
from introdl.figures import diagrams
from introdl.figures.style import LINESTYLES, PALETTE, new_figure

__all__ = ["draw_graph", "plot_finite_difference_errors", "plot_init_comparison"]


def _layout(root: Value):
    """Columns by depth (inputs just left of their first use), rows like a tree."""
    order = root.topological_order()
    col = {}
    for v in order:  # parents first
        col[id(v)] = 1 + max((col[id(p)] for p in v.parents), default=-1)
    for v in reversed(order):  # pull inputs next to the node that uses them
        children = [c for c in order if any(p is v for p in c.parents)]
        if not v.parents and children:
            col[id(v)] = min(col[id(c)] for c in children) - 1
    row, next_slot = {}, [0]

    def place(v):  # leaves take the next free row; others sit at their parents' mean
        if id(v) in row:
            return row[id(v)]
        if not v.parents:
            row[id(v)], next_slot[0] = next_slot[0], next_slot[0] + 1
        else:
            row[id(v)] = sum(place(p) for p in v.parents) / len(v.parents)
        return row[id(v)]

    place(root)
    return order, col, row


_OP_NAMES = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "/", "neg": "\u2212"}


def draw_graph(root: Value, *, ax=None, width: float = 6.4, show_grad: bool = True):
    """Diagram of the computational graph that produced ``root``.

    Each box shows a Value's name and operation, its data and, if
    ``show_grad``, its ``grad`` (in blue italics); each edge is labelled with
    the local derivative of the child with respect to the parent. Draws on
    ``ax`` if given, else on a new figure ``width`` inches wide. Returns the
    ``Figure``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    order, col, row = _layout(root)
    ncols, nrows = max(col.values()) + 1, max(row.values()) + 1
    dx, dy, bw, lh = 2.9, 1.5, 1.6, 0.36  # spacings, box width, line height
    limits = dict(xlim=(0, ncols * dx - 1.0), ylim=(-0.7, nrows * dy - 0.6))
    if ax is None:
        height = width * (nrows * dy + 0.1) / (ncols * dx)
        _, ax = diagrams.new_diagram(width, height, **limits)
    else:
        ax.set(aspect="equal", **limits)
        ax.axis("off")
    pos = {id(v): (col[id(v)] * dx + bw / 2 + 0.05, (nrows - 1 - row[id(v)]) * dy)
           for v in order}
    for v in order:
        for p, local in zip(v.parents, v.local_grads):
            diagrams.arrow(ax, pos[id(p)], pos[id(v)], label=f"{local:.3g}",
                           label_pos=0.5, r_start=bw / 2, r_end=bw / 2, fontsize=8)
    for v in order:
        name = f"${v.label}$" if v.label else "const"
        if v.op:
            name += f" ({_OP_NAMES.get(v.op, v.op)})"
        kind = "input" if not v.parents else ("output" if v is root else "op")
        (x, y), lines = pos[id(v)], [(name, "black", "normal")]
        lines.append((f"{v.data:.3g}", "black", "normal"))
        if show_grad:
            lines.append((f"{v.grad:.3g}", PALETTE[0], "italic"))
        diagrams.box(ax, (x, y), "", width=bw, height=lh * len(lines) + 0.2,
                     kind=kind)
        for i, (text, color, style) in enumerate(lines):
            ax.text(x, y + lh * ((len(lines) - 1) / 2 - i), text, ha="center",
                    va="center", fontsize=8, color=color, style=style, zorder=4)
    return ax.figure


def plot_finite_difference_errors(hs, errors, *, ax=None):
    """Log-log plot of the finite-difference error against the step ``h``,
    with the two reference slopes: ``h**2`` (approximation) and ``eps / h``
    (rounding). Returns the ``Figure``."""
    fig, ax = new_figure(width=5.0, height=3.2) if ax is None else (ax.figure, ax)
    hs = torch.as_tensor(hs, dtype=torch.float64)
    errors = torch.as_tensor(errors, dtype=torch.float64)
    eps = torch.finfo(torch.float64).eps
    ax.loglog(hs, errors.clamp_min(1e-20), marker="o", label="central difference")
    ax.loglog(hs, errors[-1] * (hs / hs[-1]) ** 2, color="gray", linestyle="--",
              linewidth=1, label="slope 2: approximation error $\\propto h^2$")
    ax.loglog(hs, eps / hs, color="gray", linestyle=":", linewidth=1.2,
              label="slope $-1$: rounding error $\\propto \\epsilon / h$")
    ax.set(xlabel="step $h$", ylabel="largest error",
           ylim=(errors.min().item() / 10, errors.max().item() * 10))
    ax.legend(loc="upper center")
    return fig


def plot_init_comparison(demo: Mapping[str, Mapping[str, DepthSignal]], *, axes=None):
    """The scale of the signal through a deep network, by layer, for several
    initialisation rules: one column per activation, the forward signal (the
    standard deviation of each layer's outputs) on top and the backward signal
    (that of the gradient with respect to them) below.

    Args:
        demo: activation -> rule name ->
            :class:`~introdl.experiments.backpropagation.DepthSignal`, as
            :func:`~introdl.experiments.backpropagation.init_comparison` returns.
        axes: a ``(2, len(demo))`` array of axes to draw on; a new figure if
            ``None``.
    Returns:
        The ``Figure``.
    """
    if not demo:
        raise ValueError("demo must hold at least one activation")
    if axes is None:
        _, axes = new_figure(ncols=len(demo), nrows=2, height=5.8, squeeze=False,
                             sharey="row")
    if getattr(axes, "shape", None) != (2, len(demo)):
        raise ValueError(f"axes must be a (2, {len(demo)}) array of axes, got "
                         f"{getattr(axes, 'shape', type(axes).__name__)}")
    for col, (activation, runs) in enumerate(demo.items()):
        top, bottom = axes[0, col], axes[1, col]
        for i, (name, signal) in enumerate(runs.items()):
            layers = range(1, len(signal.forward_std) + 1)
            style = {"color": PALETTE[i % len(PALETTE)],
                     "linestyle": LINESTYLES[i % len(LINESTYLES)], "label": name}
            top.plot(layers, signal.forward_std, **style)
            bottom.plot(layers, signal.backward_std, **style)
        top.set(title={"relu": "ReLU"}.get(activation, activation), yscale="log")
        bottom.set(xlabel="layer $k$", yscale="log")
        if col == 0:
            top.set_ylabel("std of the outputs $h^{(k)}$")
            bottom.set_ylabel(r"std of $\partial J / \partial h^{(k)}$")
    fig = axes[0, 0].figure
    handles, labels = axes[1, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    return fig
