"""Figures of the chapter "Backpropagation through time": gradient norms through
time and through layers, and a run with and without gradient clipping. (The
unrolled graph with its backward pass is
:func:`introdl.figures.rnn.draw_rnn_unrolled` with ``backward=True``.)"""

import math
from collections.abc import Mapping, Sequence

from introdl.figures.style import new_figure, plot_curves
from introdl.training import History

__all__ = ["plot_grad_norms_through_time", "plot_layer_grad_norms", "plot_clipping"]


def plot_grad_norms_through_time(norms: Mapping[float, Sequence[float]], *, ax=None):
    """Log-scale curves of ``||dL/dh_{T-k}||`` against ``k``, one per sigma
    (the output of :func:`~introdl.experiments.bptt.grad_norms_through_time`).
    Returns the Figure."""
    curves = {rf"$\sigma = {s:g}$": v for s, v in norms.items()}
    return plot_curves(curves, ax=ax, logy=True, xlabel="steps back in time $k$",
                       ylabel=r"$\|\partial L / \partial h_{T-k}\|$")


def plot_layer_grad_norms(norms: Mapping[str, Sequence[float]], *, ax=None):
    """Log-scale gradient norm per layer, one curve per activation (the output
    of :func:`~introdl.experiments.bptt.deep_net_grad_norms` by name). Returns
    the Figure."""
    if not norms:
        raise ValueError("norms must hold at least one curve")
    depth = len(next(iter(norms.values())))
    fig = plot_curves(norms, x=range(1, depth + 1), ax=ax, logy=True,
                      xlabel="layer (1 = nearest the input)",
                      ylabel=r"$\|\partial L / \partial W_\ell\|$")
    ax = fig.axes[0] if ax is None else ax
    ax.xaxis.get_major_locator().set_params(integer=True)  # layers are whole numbers
    for line in ax.lines:
        line.set_marker("o")
        line.set_markersize(3)
    return fig


def _finite(values: Sequence[float]) -> list[float]:
    """``values`` with every infinite or NaN entry replaced by NaN (not drawn)."""
    return [v if math.isfinite(v) else math.nan for v in values]


def plot_clipping(histories: Mapping[str, History], *, axes=None):
    """Two panels: training loss and the largest gradient norm (before
    clipping) per epoch, log scale, one curve per run (as from
    :func:`~introdl.experiments.bptt.clipping_demo`). Non-finite values (a run
    that overflowed) are left out. Returns the Figure."""
    if axes is None:
        _, axes = new_figure(ncols=2, height=2.9)
    plot_curves({k: _finite(h.train_loss) for k, h in histories.items()}, ax=axes[0],
                logy=True, ylabel="training loss (MSE)")
    plot_curves({k: _finite(h.grad_norm) for k, h in histories.items()}, ax=axes[1],
                logy=True, ylabel="largest gradient norm")
    return axes[0].figure
