"""Figures of the chapter "Recurrent neural networks": the cell with its loop,
the unrolled computational graph (also drawn with its backward pass, for the
chapter "Backpropagation through time") and a heatmap of hidden states."""

from collections.abc import Sequence

import matplotlib.patches as mpatches
import torch

from introdl.checks import check_ndim, check_positive_int, check_tensor
from introdl.figures import diagrams
from introdl.figures.style import PALETTE, plot_heatmap

__all__ = ["draw_rnn_loop", "draw_rnn_unrolled", "plot_hidden_states"]


def draw_rnn_loop():
    """Diagram of a recurrent cell with its loop: ``x_t`` enters, ``y_hat_t``
    leaves, and the hidden state ``h_t`` is fed back as the next step's
    ``h_{t-1}`` (the notes' missing "rnn_from_scratch" image)."""
    fig, ax = diagrams.new_diagram(6.4, 3.0, xlim=(0, 10.5), ylim=(-0.3, 4.6))
    cx = 2.2
    diagrams.node(ax, (cx, 0.4), "$x_t$", kind="input")
    diagrams.box(ax, (cx, 2.1), "RNN cell\n$h_t$", width=1.8, height=1.1,
                 kind="state")
    diagrams.node(ax, (cx, 4.0), r"$\hat y_t$", kind="output")
    diagrams.arrow(ax, (cx, 0.4), (cx, 2.1), r_end=0.55, label="$W_{xh}$")
    diagrams.arrow(ax, (cx, 2.1), (cx, 4.0), r_start=0.55, label="$W_{hy}$")
    ax.add_patch(mpatches.FancyArrowPatch(  # the loop: h_t returns as h_{t-1}
        (cx + 0.9, 2.35), (cx + 0.9, 1.85), arrowstyle="-|>", mutation_scale=12,
        color="black", linewidth=1.1, zorder=2,
        connectionstyle="arc,angleA=0,angleB=0,armA=38,armB=38,rad=8"))
    ax.text(cx + 1.75, 2.1, "$W_{hh}$", ha="left", va="center", fontsize=9,
            color=PALETTE[1])
    diagrams.caption(ax, (cx + 1.45, 1.0), "$h_t$ is fed back\nas $h_{t-1}$",
                     fontsize=8)
    ax.text(5.3, 2.6, r"$h_t = \tanh(W_{hh}\, h_{t-1} + W_{xh}\, x_t)$",
            fontsize=11, va="center")
    ax.text(5.3, 1.6, r"$\hat y_t = W_{hy}\, h_t$", fontsize=11, va="center")
    diagrams.caption(ax, (7.5, 0.8), "one cell, applied at every time step")
    return fig


def draw_rnn_unrolled(num_steps: int = 4, *, backward: bool = False):
    """The RNN unrolled over ``num_steps``: a column per time step with ``x_t``,
    ``h_t`` and the loss ``L_t``, the same weights in every column.

    ``backward=False`` (the notes' missing "rnn_computational_graph" image):
    with the outputs ``y_hat_t``, the weights ``W_xh``, ``W_hh``, ``W_hy`` on
    every column and the losses adding up to ``L``. ``backward=True`` (the
    notes' missing "back_through_time" image): the forward pass in black and
    the gradients dashed, flowing from each loss into its state and back along
    the chain, each step multiplying by the Jacobian ``dh_t/dh_{t-1}``.
    """
    T = check_positive_int("num_steps", num_steps)
    dx, x_row, loss_row = (2.2, 0.6, 4.9) if backward else (2.0, 0.5, 5.3)
    xlim, ylim = (((-0.1, 1.5 + dx * T), (-1.4, 5.5)) if backward
                  else ((0, 1.6 + dx * T), (-0.3, 7.2)))
    fig, ax = diagrams.new_diagram(6.4, 3.9, xlim=xlim, ylim=ylim)
    diagrams.node(ax, (0.6, 2.4), "$h_0$", kind="state")
    for t in range(1, T + 1):
        x = 0.6 + dx * t
        diagrams.node(ax, (x, x_row), f"$x_{t}$", kind="input")
        diagrams.node(ax, (x, 2.4), f"$h_{t}$", kind="state")
        diagrams.node(ax, (x, loss_row), f"$L_{t}$", kind="op",
                      radius=0.4 if backward else 0.35)
        diagrams.arrow(ax, (x, x_row), (x, 2.4),
                       label=None if backward else "$W_{xh}$")
        diagrams.arrow(ax, (x - dx, 2.4), (x, 2.4),
                       label=None if backward else "$W_{hh}$")
    if backward:
        _draw_gradients(ax, T, dx)
    else:
        _draw_outputs_and_losses(ax, T, dx)
    return fig


def _draw_outputs_and_losses(ax, T: int, dx: float) -> None:
    """The forward graph's outputs ``y_hat_t``, and the losses adding up to ``L``."""
    diagrams.caption(ax, (0.6, 1.65), "start: 0", fontsize=8)
    total = (0.9 + dx * (T + 1) / 2, 6.6)
    diagrams.box(ax, total, r"$L = \sum_t L_t$", width=2.0, height=0.7, kind="op")
    for t in range(1, T + 1):
        x = 0.6 + dx * t
        diagrams.node(ax, (x, 4.0), rf"$\hat y_{t}$", kind="output")
        diagrams.arrow(ax, (x, 2.4), (x, 4.0), label="$W_{hy}$")
        diagrams.arrow(ax, (x, 4.0), (x, 5.3), r_end=0.35)
        diagrams.arrow(ax, (x, 5.3), total, r_start=0.35, r_end=0.45,
                       color="#888888")


def _draw_gradients(ax, T: int, dx: float) -> None:
    """Each state feeds its loss; the gradients flow back, dashed, with the
    Jacobian of every step and the chain rule written out below."""
    back = PALETTE[1]
    for t in range(1, T + 1):
        x = 0.6 + dx * t
        diagrams.arrow(ax, (x - 0.15, 2.4), (x - 0.15, 4.9), r_start=0.37, r_end=0.37)
        diagrams.arrow(ax, (x + 0.15, 4.9), (x + 0.15, 2.4), color=back,
                       linestyle="--", r_start=0.37, r_end=0.37)
        ax.text(x + 0.3, 3.65, rf"$\frac{{\partial L_{t}}}{{\partial h_{t}}}$",
                color=back, fontsize=12, ha="left", va="center")
        diagrams.arrow(ax, (x, 2.4), (x - dx, 2.4), color=back, linestyle="--",
                       rad=0.5)
        jacobian = rf"$\frac{{\partial h_{t}}}{{\partial h_{{{t - 1}}}}}$"
        ax.text(x - dx / 2, 3.25, jacobian, color=back, fontsize=12, ha="center",
                va="center")
    chain = r" \, ".join(rf"\frac{{\partial h_{t}}}{{\partial h_{{{t - 1}}}}}"
                          for t in range(T, 1, -1))
    ax.text(0.75 + dx * T / 2, -0.35,
            rf"$\frac{{\partial L_{T}}}{{\partial h_1}} = "
            rf"\frac{{\partial L_{T}}}{{\partial h_{T}}} \, {chain}$",
            ha="center", va="center", fontsize=13, color=back)
    diagrams.caption(ax, (0.75 + dx * T / 2, -1.15),
                     "solid: forward pass;  dashed: gradients flowing back in time")


def plot_hidden_states(hs: torch.Tensor, step_labels: Sequence[str], *, ax=None,
                       title: str | None = None):
    """Heatmap of hidden states over time: one row per hidden unit, one column
    per step. ``hs``: ``(T, H)`` values in ``[-1, 1]`` (tanh); ``step_labels``:
    ``T`` strings for the columns. Returns the Figure."""
    check_ndim("hs", check_tensor("hs", hs, floating=True), (2,))
    if len(step_labels) != hs.shape[0]:
        raise ValueError(f"step_labels must have {hs.shape[0]} entries, got "
                         f"{len(step_labels)}")
    fig = plot_heatmap(hs.detach().T, ax=ax, xlabels=step_labels,
                       ylabels=[str(i) for i in range(hs.shape[1])],
                       xlabel="time step", ylabel="hidden unit", title=title,
                       vmin=-1, vmax=1)
    fig.axes[-1].set_ylabel("value of $h_t$")  # the colour bar
    return fig
