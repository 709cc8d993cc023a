"""Figures of the chapter "Attention" (the transformer chapter reuses
:func:`plot_head_weights`)."""

from collections.abc import Sequence

import torch

from introdl.experiments.attention import ScoreSpread
from introdl.figures import diagrams
from introdl.figures.style import PALETTE, log_ticks, new_figure, plot_heatmap

__all__ = ["draw_attention_steps", "plot_score_scaling", "plot_positional_encoding",
           "plot_alignment", "plot_head_weights"]


def draw_attention_steps(*, ax=None):
    """Diagram of the five steps of self-attention: encode position; compute
    queries, keys and values with three weight matrices; scaled dot-product
    similarity; softmax attention weights; weighted sum of the values.
    Draws on ``ax`` if given. Returns the ``Figure``."""
    ax = diagrams.diagram_axes(ax, 6.4, 3.0, xlim=(0, 13), ylim=(0, 6.1))
    X, Q, K, V = (1.3, 3.0), (4.1, 4.6), (4.1, 3.0), (4.1, 1.2)
    S, W, OUT = (7.2, 3.8), (9.6, 3.8), (11.6, 2.0)
    diagrams.box(ax, X, "tokens\n+ positions\n$X$", width=2.0, height=1.5,
                 kind="input")
    for xy, lab in ((Q, "$Q = X W_Q$"), (K, "$K = X W_K$"), (V, "$V = X W_V$")):
        diagrams.box(ax, xy, lab, width=2.0, height=0.8, kind="hidden")
        diagrams.arrow(ax, (X[0] + 1.0, X[1]), (xy[0] - 1.0, xy[1]), r_start=0,
                       r_end=0)
    diagrams.box(ax, S, r"$\frac{Q K^T}{\sqrt{d_k}}$", width=2.0, height=1.0)
    diagrams.box(ax, W, "softmax", width=1.7, height=0.8)
    diagrams.box(ax, OUT, r"$A\,V$", width=1.4, height=0.8, kind="output")
    diagrams.arrow(ax, (Q[0] + 1.0, Q[1]), (S[0] - 1.0, S[1] + 0.2), r_start=0,
                   r_end=0)
    diagrams.arrow(ax, (K[0] + 1.0, K[1]), (S[0] - 1.0, S[1] - 0.2), r_start=0,
                   r_end=0)
    diagrams.arrow(ax, (S[0] + 1.0, S[1]), (W[0] - 0.85, W[1]), r_start=0, r_end=0)
    diagrams.arrow(ax, (W[0], W[1] - 0.4), (OUT[0] - 0.3, OUT[1] + 0.4), r_start=0,
                   r_end=0, label="$A$", label_pos=0.45)
    diagrams.arrow(ax, (V[0] + 1.0, V[1]), (OUT[0] - 0.7, OUT[1] - 0.2), r_start=0,
                   r_end=0)
    steps = ((X[0], 5.6, "1 encode\nposition"), (Q[0], 5.6, "2 queries, keys,\nvalues"),
             (S[0], 5.6, "3 similarity"), (W[0], 5.6, "4 attention\nweights"),
             (OUT[0], 0.5, "5 extract\nvalues"))
    for x, y, text in steps:
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5,
                color=PALETTE[1], fontweight="bold")
    return ax.figure


def plot_score_scaling(spread: ScoreSpread, *, axes=None):
    """Two panels from :func:`~introdl.experiments.attention.score_spread`: the
    spread of the scores against ``d_k`` (log-log), and one query's softmax
    weights with and without the scaling. ``axes``: a pair of axes to draw on
    (a new figure if ``None``). Returns the ``Figure``."""
    if axes is None:
        _, axes = new_figure(ncols=2, height=2.9)
    ax1, ax2 = axes
    ax1.plot(spread.d_k, spread.unscaled, marker="o", label=r"$q \cdot k$")
    ax1.plot(spread.d_k, spread.scaled, marker="s", label=r"$q \cdot k / \sqrt{d_k}$")
    ax1.set(xlabel="$d_k$", ylabel="standard deviation of the score")
    log_ticks(ax1, spread.d_k, y=True)
    ax1.legend()
    keys = range(len(spread.weights_scaled))
    ax2.bar([i - 0.2 for i in keys], spread.weights_unscaled.tolist(), width=0.4,
            color=PALETTE[0], label="unscaled", edgecolor="black", linewidth=0.5)
    ax2.bar([i + 0.2 for i in keys], spread.weights_scaled.tolist(), width=0.4,
            color=PALETTE[1], hatch="//", label="scaled", edgecolor="black",
            linewidth=0.5)
    ax2.set(xlabel=f"key ($d_k$ = {spread.d_k[-1]})", ylabel="attention weight",
            ylim=(0, 1.05))
    ax2.set_xticks(list(keys))
    ax2.legend()
    return ax1.figure


def plot_positional_encoding(pe: torch.Tensor, dims: Sequence[int] = (4, 10, 16, 24),
                             *, axes=None):
    """Heatmap of a positional encoding ``pe`` ``(seq_len, d_model)`` (left)
    and its columns ``dims`` against the position (right). ``axes``: a pair
    of axes to draw on (a new figure if ``None``). Returns the ``Figure``."""
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.0)
    ax1, ax2 = axes
    plot_heatmap(pe.T, ax=ax1, cmap="PuOr", vmin=-1, vmax=1, xlabel="position",
                 ylabel="dimension")
    ax1.invert_yaxis()
    for i in dims:
        kind = "sin" if i % 2 == 0 else "cos"
        ax2.plot(pe[:, i].tolist(), label=f"dim {i} ({kind})")
    ax2.set(xlabel="position", ylabel="value", ylim=(-1.1, 1.1))
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8)
    return ax1.figure


def plot_alignment(before: torch.Tensor, after: torch.Tensor,
                   expected: torch.Tensor, in_tokens: Sequence[str] | None = None,
                   out_tokens: Sequence[str] | None = None, *, axes=None):
    """Three attention heatmaps ``(L, L)`` side by side, on one colour scale:
    before training, after training, and the expected alignment.

    ``in_tokens`` (optional) label the key columns, ``out_tokens`` the query
    rows; by default both are the positions ``0 .. L-1``. ``axes``: three axes
    to draw on (a new figure if ``None``). Returns the ``Figure``.
    """
    if axes is None:
        _, axes = new_figure(ncols=3, height=2.6, sharey=True)
    ticks = [str(i) for i in range(before.shape[-1])]
    panels = (("before training", before), ("after training", after),
              ("expected (reversal)", expected))
    for ax, (title, w) in zip(axes, panels):
        plot_heatmap(w, ax=ax, vmin=0, vmax=1, title=title, cmap="Blues",
                     colorbar=ax is axes[-1], xlabel="input token (key)",
                     xlabels=in_tokens or ticks, ylabels=out_tokens or ticks)
        ax.tick_params(axis="x", rotation=0)
    axes[0].set_ylabel("output token (query)")
    return axes[0].figure


def plot_head_weights(weights: torch.Tensor, tokens: Sequence[str], *,
                      query_tokens: Sequence[str] | None = None, prefix: str = "",
                      axes=None):
    """One heatmap per attention head, on one colour scale from 0 to 1.

    ``weights``: ``(h, L, S)`` for one layer (one row of panels) or
    ``(layers, h, L, S)`` (one row per layer). ``tokens`` label the ``S`` key
    columns, ``query_tokens`` the ``L`` query rows (default ``tokens``);
    ``prefix`` goes before each panel's title, e.g. ``"block 2, "``.
    ``axes``: a ``(layers, h)`` grid of axes to draw on (a new figure if
    ``None``). Returns the ``Figure``.
    """
    w = weights.detach()
    if w.ndim == 3:
        w = w[None]
    if w.ndim != 4:
        raise ValueError(f"weights must be (h, L, S) or (layers, h, L, S), got "
                         f"shape {tuple(weights.shape)}")
    layers, h = w.shape[:2]
    if axes is None:
        _, axes = new_figure(ncols=h, nrows=layers, height=3.0 * layers,
                             sharex=True, sharey=True, squeeze=False)
    for i in range(layers):
        for j in range(h):
            title = f"head {j + 1}" if layers == 1 else f"layer {i + 1}, head {j + 1}"
            plot_heatmap(w[i, j], ax=axes[i][j], vmin=0, vmax=1, cmap="Blues",
                         title=prefix + title, colorbar=False, xlabels=tokens,
                         ylabels=query_tokens or tokens)
    fig = axes[0][0].figure
    fig.colorbar(axes[0][0].images[0], ax=axes, shrink=0.6, label="attention weight")
    return fig
