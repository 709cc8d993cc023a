"""Figures of the chapter "The perceptron"."""

from collections.abc import Mapping

import torch

from introdl.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad
from introdl.experiments.perceptron import SeparabilityRun
from introdl.figures import diagrams
from introdl.figures.style import new_figure, plot_decision_regions

__all__ = ["plot_activations", "draw_perceptron", "plot_separability"]


def plot_activations(lo: float = -5.0, hi: float = 5.0, num: int = 401, *,
                     axes=None):
    """Sigmoid, tanh and ReLU (left) and their derivatives (right).

    ``axes``: a pair of axes to draw on; a new figure if ``None``. Returns the
    ``Figure``.
    """
    if axes is None:
        fig, axes = new_figure(ncols=2, height=3.0, sharex=True)
    ax_f, ax_d = axes
    x = torch.linspace(lo, hi, num, dtype=torch.float64)
    for name, f, df in (("sigmoid", sigmoid, sigmoid_grad), ("tanh", tanh, tanh_grad),
                        ("ReLU", relu, relu_grad)):
        ax_f.plot(x, f(x), label=name)
        ax_d.plot(x, df(x), label=name)
    ax_f.set(xlabel="$z$", ylabel="$g(z)$", title="activation", ylim=(-1.2, 2.2))
    ax_d.set(xlabel="$z$", ylabel="$g'(z)$", title="derivative", ylim=(-0.1, 1.2))
    ax_f.legend(loc="upper left")
    return ax_f.figure


def draw_perceptron(d: int = 3, *, ax=None):
    """Diagram of a perceptron with ``d`` inputs (the notes' missing image).

    Inputs ``x_1..x_d`` and a constant 1 feed, through weights ``w_1..w_d`` and
    the bias ``w_0``, a sum node; the sum passes through the non-linearity
    ``g`` to give ``y_hat``. Draws on ``ax`` if given. Returns the ``Figure``.
    """
    if ax is None:
        _, ax = diagrams.new_diagram(6.4, 3.2, xlim=(0, 10), ylim=(0, 5))
    ys = [4.2 - i * (3.4 / max(d, 1)) for i in range(d + 1)]
    sum_xy, g_xy, out_xy = (5.2, 2.5), (7.2, 2.5), (9.2, 2.5)
    labels = ["$1$"] + [f"$x_{i}$" for i in range(1, d + 1)]
    weights = ["$w_0$"] + [f"$w_{i}$" for i in range(1, d + 1)]
    for i, (y, lab, wlab) in enumerate(zip(ys, labels, weights)):
        kind = "bias" if i == 0 else "input"
        diagrams.node(ax, (1.0, y), lab, kind=kind)
        diagrams.arrow(ax, (1.0, y), sum_xy, label=wlab, label_pos=0.45)
    diagrams.node(ax, sum_xy, r"$\Sigma$", kind="op", radius=0.5)
    diagrams.node(ax, g_xy, "$g$", kind="op", radius=0.5)
    diagrams.node(ax, out_xy, r"$\hat{y}$", kind="output")
    diagrams.arrow(ax, sum_xy, g_xy, label="$z$", r_start=0.5, r_end=0.5)
    diagrams.arrow(ax, g_xy, out_xy, r_start=0.5)
    diagrams.caption(ax, (1.0, 0.2), "inputs")
    diagrams.caption(ax, (5.2, 0.2), "sum")
    diagrams.caption(ax, (7.2, 0.2), "non-linearity")
    diagrams.caption(ax, (9.2, 0.2), "output")
    return ax.figure


def plot_separability(runs: Mapping[str, SeparabilityRun], *, axes=None):
    """Decision regions of each classifier of
    :func:`~introdl.experiments.perceptron.separability_demo`, one panel each,
    titled with its name. ``axes``: one axes per run, or ``None`` for a new
    figure. Returns the ``Figure``."""
    if axes is None:
        _, axes = new_figure(ncols=len(runs), height=2.8, squeeze=False)
        axes = axes[0]
    if len(axes) != len(runs):
        raise ValueError(f"axes must hold one axes per run ({len(runs)}), "
                         f"got {len(axes)}")
    for ax, (name, r) in zip(axes, runs.items()):
        plot_decision_regions(r.predict, r.X, r.y, ax=ax, title=name)
    axes[0].legend(loc="lower right", frameon=True)
    return axes[0].figure
