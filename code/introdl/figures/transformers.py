"""Figures of the chapter "Transformers" (the heads' weights are drawn by
:func:`introdl.figures.attention.plot_head_weights`)."""

from collections.abc import Sequence

import matplotlib.patches as mpatches
import torch

from introdl.checks import check_positive_int
from introdl.experiments.transformers import StreamScale
from introdl.figures import diagrams
from introdl.figures.style import PALETTE, new_figure, plot_heatmap

__all__ = ["draw_transformer_block", "draw_gpt", "plot_mask", "plot_stream_scale"]


def draw_transformer_block(*, ax=None):
    """Diagram of a (pre-norm) transformer block, bottom to top: layer norm,
    masked multi-head self-attention, residual sum; layer norm, feed-forward
    network, residual sum (the notes' missing "transformers" image).
    Draws on ``ax`` if given. Returns the ``Figure``."""
    ax = diagrams.diagram_axes(ax, 6.4, 4.6, xlim=(0, 10), ylim=(0, 11.4))
    cx, rx = 5.0, 2.3  # main column, residual path
    ys = {"in": 0.4, "ln1": 2.3, "attn": 3.7, "add1": 5.1, "ln2": 6.6, "ff": 8.0,
          "add2": 9.4, "out": 10.9}
    radius = {"in": 0.25, "ln1": 0.4, "attn": 0.55, "add1": 0.35, "ln2": 0.4,
              "ff": 0.55, "add2": 0.35, "out": 0.25}
    diagrams.caption(ax, (cx, ys["in"]), "input $x$: one vector per position",
                     fontsize=9)
    for key, label in (("ln1", "layer norm"), ("ln2", "layer norm")):
        diagrams.box(ax, (cx, ys[key]), label, width=3.0, height=0.8, kind="plain")
    diagrams.box(ax, (cx, ys["attn"]), "multi-head self-attention\n(causal mask)",
                 width=4.0, height=1.1, kind="hidden")
    diagrams.box(ax, (cx, ys["ff"]), "feed-forward network\n(same at each position)",
                 width=4.0, height=1.1, kind="op")
    for key in ("add1", "add2"):
        diagrams.node(ax, (cx, ys[key]), "+", kind="plain", radius=0.35)
    diagrams.caption(ax, (cx, ys["out"]), "output: same shape as $x$", fontsize=9)
    keys = list(ys)
    for a, b in zip(keys, keys[1:]):
        diagrams.arrow(ax, (cx, ys[a]), (cx, ys[b]), r_start=radius[a],
                       r_end=radius[b])
    for branch, add in ((ys["in"] + 1.0, "add1"), (ys["add1"] + 0.75, "add2")):
        ax.plot([cx, rx, rx], [branch, branch, ys[add]], color=PALETTE[1],
                linestyle="-", linewidth=1.2, zorder=1)
        ax.plot([cx], [branch], marker="o", markersize=4, color=PALETTE[1])
        diagrams.arrow(ax, (rx, ys[add]), (cx, ys[add]), r_start=0, r_end=0.35,
                       color=PALETTE[1])
        ax.text(rx - 0.15, (branch + ys[add]) / 2, "residual connection",
                rotation=90, ha="right", va="center", fontsize=8,
                color=PALETTE[1])
    ax.add_patch(mpatches.FancyBboxPatch(
        (1.2, 1.0), 6.6, 8.95, boxstyle="round,pad=0.05,rounding_size=0.3",
        facecolor="none", edgecolor="#777777", linestyle="--", linewidth=1))
    ax.text(8.0, 5.5, r"$\times N$" + "\nblocks", ha="left", va="center",
            fontsize=10)
    return ax.figure


def draw_gpt(num_layers: int = 2, *, ax=None):
    """Diagram of a GPT-style model, left to right: tokens, token and position
    embeddings, ``num_layers`` transformer blocks, final layer norm, a linear
    layer and softmax giving the next-token probabilities.
    Draws on ``ax`` if given. Returns the ``Figure``."""
    check_positive_int("num_layers", num_layers)
    ax = diagrams.diagram_axes(ax, 6.4, 1.4, xlim=(0, 16), ylim=(0.3, 3.4))
    items = [("token ids", "input", 1.6),
             ("token +\nposition\nembedding", "hidden", 1.9)]
    items += [(f"block {i + 1}", "op", 1.5) for i in range(num_layers)]
    items += [("layer\nnorm", "plain", 1.3), ("linear +\nsoftmax", "hidden", 1.7),
              ("next-token\nprobabilities", "output", 2.1)]
    gap = (16 - sum(w for *_, w in items)) / (len(items) + 1)
    x = gap
    centres = []
    for label, kind, w in items:
        diagrams.box(ax, (x + w / 2, 2.3), label, width=w, height=1.8, kind=kind,
                     fontsize=8.5)
        centres.append((x, x + w))
        x += w + gap
    for (_, right), (left, _) in zip(centres, centres[1:]):
        diagrams.arrow(ax, (right, 2.3), (left, 2.3), r_start=0.02, r_end=0.02)
    diagrams.caption(ax, ((centres[2][0] + centres[1 + num_layers][1]) / 2, 0.7),
                     "causal self-attention inside each block")
    return ax.figure


def plot_mask(mask: torch.Tensor, tokens: Sequence[str] | None = None, *, ax=None):
    """Heatmap of a boolean mask ``(L, S)``: dark where a query (row) may
    attend to a key (column), white where it may not. Draws on ``ax`` if
    given. Returns the ``Figure``."""
    fig = plot_heatmap(mask.float(), ax=ax, cmap="Greys", vmin=0, vmax=1.3,
                       colorbar=False, xlabels=tokens, ylabels=tokens,
                       xlabel="key", ylabel="query")
    ax = ax if ax is not None else fig.axes[0]
    L, S = mask.shape
    ax.set_xticks([j - 0.5 for j in range(1, S)], minor=True)
    ax.set_yticks([i - 0.5 for i in range(1, L)], minor=True)
    ax.grid(which="minor", color="white", linewidth=1, alpha=1)
    ax.tick_params(which="minor", length=0)
    ax.set_aspect("equal")
    return fig


def plot_stream_scale(scale: StreamScale, *, ax=None):
    """The root mean square of the residual stream against the number of
    blocks passed (0 = the input), for a pre-norm and a post-norm stack, from
    :func:`~introdl.experiments.transformers.residual_stream_scale`. Draws on
    ``ax`` if given. Returns the ``Figure``."""
    if ax is None:
        _, ax = new_figure(height=2.8)
    depth = range(len(scale.pre_norm))
    ax.plot(depth, scale.pre_norm, marker="o", markersize=3,
            label="pre-norm: x + F(LN(x))")
    ax.plot(depth, scale.post_norm, marker="s", markersize=3,
            label="post-norm: LN(x + F(x))")
    ax.set(xlabel="blocks passed", ylabel="RMS of the residual stream",
           ylim=(0, 1.1 * max(scale.pre_norm + scale.post_norm)))
    ax.legend(loc="lower right")
    return ax.figure
