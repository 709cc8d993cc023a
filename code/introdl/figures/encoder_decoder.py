"""Figures of the chapter "Encoder-decoder and cross-attention"."""

from collections.abc import Mapping, Sequence

import matplotlib.patches as mpatches
import torch

from introdl.figures import diagrams
from introdl.figures.style import PALETTE, panel_axes, plot_heatmap

__all__ = ["draw_encoder_decoder", "plot_cross_attention"]


def _frame(ax, x0, y0, width, height, label):
    """A dashed frame around the blocks that repeat, with "x N" beside it."""
    ax.add_patch(mpatches.FancyBboxPatch(
        (x0, y0), width, height, boxstyle="round,pad=0.05,rounding_size=0.3",
        facecolor="none", edgecolor="#777777", linestyle="--", linewidth=1))
    ax.text(x0 + width + 0.15, y0 + height / 2, label, ha="left", va="center",
            fontsize=9)


def draw_encoder_decoder(*, ax=None):
    """Diagram of an encoder-decoder transformer, bottom to top.

    Left, the encoder: source tokens, embeddings, ``N`` blocks of
    self-attention (no mask) and a feed-forward network, a layer norm: the
    memory. Right, the decoder: the target so far, embeddings, ``N`` blocks of
    masked self-attention, cross-attention (queries from the decoder, keys
    and values from the memory) and a feed-forward network, then the
    next-token probabilities. Draws on ``ax`` if given; returns the ``Figure``.
    """
    ax = diagrams.diagram_axes(ax, 6.4, 4.7, xlim=(0, 14), ylim=(0, 10.3))
    ex, dx, w = 3.2, 10.0, 4.0  # encoder and decoder columns, box width
    enc = {"in": 0.4, "emb": 1.7, "attn": 3.5, "ff": 5.0, "norm": 6.9}
    dec = {"in": 0.4, "emb": 1.7, "attn": 3.3, "cross": 4.9, "ff": 6.5, "out": 8.0,
           "probs": 9.3}
    diagrams.caption(ax, (ex, enc["in"]), "source tokens")
    diagrams.caption(ax, (dx, dec["in"]), "<bos> + target so far")
    diagrams.caption(ax, (dx, dec["probs"]), "next-token probabilities")
    for x, ys in ((ex, enc), (dx, dec)):
        diagrams.box(ax, (x, ys["emb"]), "token + position embedding", width=w,
                     height=0.7, kind="input", fontsize=8.5)
    diagrams.box(ax, (ex, enc["attn"]), "self-attention\n(no mask)", width=w,
                 height=1.0, kind="hidden", fontsize=9)
    diagrams.box(ax, (dx, dec["attn"]), "masked self-attention\n(causal)", width=w,
                 height=1.0, kind="hidden", fontsize=9)
    diagrams.box(ax, (dx, dec["cross"]), "cross-attention", width=w, height=0.8,
                 kind="state", fontsize=9)
    for x, y in ((ex, enc["ff"]), (dx, dec["ff"])):
        diagrams.box(ax, (x, y), "feed-forward network", width=w, height=0.8,
                     kind="op", fontsize=9)
    diagrams.box(ax, (ex, enc["norm"]), "layer norm: memory", width=w, height=0.7,
                 kind="plain", fontsize=9)
    diagrams.box(ax, (dx, dec["out"]), "layer norm, linear, softmax", width=w,
                 height=0.7, kind="output", fontsize=8.5)
    for x, ys in ((ex, enc), (dx, dec)):
        keys = list(ys)
        for a, b in zip(keys, keys[1:]):
            diagrams.arrow(ax, (x, ys[a]), (x, ys[b]), r_start=0.35, r_end=0.45)
    _frame(ax, ex - w / 2 - 0.25, enc["attn"] - 0.75, w + 0.5, 3.0, r"$\times N$")
    _frame(ax, dx - w / 2 - 0.25, dec["attn"] - 0.75, w + 0.5, 4.65, r"$\times N$")
    # the memory feeds the cross-attention of every decoder block
    ax.plot([ex, ex, 6.9, 6.9], [enc["norm"] + 0.35, 8.0, 8.0, dec["cross"]],
            color=PALETTE[1], linestyle="-", linewidth=1.3, zorder=1)
    diagrams.arrow(ax, (6.9, dec["cross"]), (dx - w / 2, dec["cross"]), r_start=0,
                   r_end=0, color=PALETTE[1])
    ax.text(6.75, 6.3, "keys and values\nfrom the memory", rotation=90, ha="right",
            va="center", fontsize=8, color=PALETTE[1])
    ax.text(dx + 0.15, (dec["attn"] + dec["cross"]) / 2, "queries", ha="left",
            va="center", fontsize=8, color="#444444", style="italic")
    for x, label in ((ex, "encoder"), (dx, "decoder")):
        ax.text(x, 10.0, label, ha="center", va="center", fontsize=10,
                fontweight="bold")
    return ax.figure


def plot_cross_attention(panels: Mapping[str, torch.Tensor], src_tokens: Sequence[str],
                         out_tokens: Sequence[str], *, axes=None):
    """Heatmaps of cross-attention weights, one panel per entry of ``panels``
    (title -> weights ``(T, S)``), on one colour scale from 0 to 1.

    Rows are the ``T`` output tokens ``out_tokens`` (the query: the token the
    decoder is writing), columns the ``S`` source tokens ``src_tokens`` (the
    keys). Draws on ``axes`` (one per panel) if given; returns the ``Figure``.
    """
    axes = panel_axes(len(panels), axes, height=2.8, what="panels")
    for i, (ax, (title, w)) in enumerate(zip(axes, panels.items())):
        if tuple(w.shape) != (len(out_tokens), len(src_tokens)):
            raise ValueError(f"panel {title!r} must be ({len(out_tokens)}, "
                             f"{len(src_tokens)}), got {tuple(w.shape)}")
        plot_heatmap(w.detach(), ax=ax, vmin=0, vmax=1, cmap="Blues", title=title,
                     colorbar=i == len(panels) - 1, xlabels=src_tokens,
                     ylabels=out_tokens if i == 0 else None,
                     xlabel="source token (key)")
        ax.tick_params(axis="x", rotation=0)
    axes[0].set_ylabel("output token (query)")
    return axes[0].figure
