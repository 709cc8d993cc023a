"""Figures of the chapter "Subword tokens"."""

from collections.abc import Sequence

import matplotlib.patches as mpatches

from introdl.experiments.tokens import MergeRow, Segmentation, VocabCurve
from introdl.figures.style import PALETTE, new_figure

__all__ = ["plot_merges", "plot_vocab_size", "plot_sequence_length",
           "draw_segmentation"]


def _fig_ax(ax, **kwargs):
    if ax is None:
        fig, ax = new_figure(**kwargs)
        return fig, ax
    return ax.figure, ax


def plot_merges(rows: Sequence[MergeRow], *, ax=None):
    """Horizontal bars: how often each of the first merges' pairs occurred,
    the first merge at the top. Returns the ``Figure``."""
    if not rows:
        raise ValueError("rows must hold at least one merge")
    fig, ax = _fig_ax(ax, height=0.25 * len(rows) + 0.9)
    labels = [f"{r.rank + 1:>2}. {r.left} + {r.right} \u2192 {r.token}" for r in rows]
    y = range(len(rows))
    ax.barh(y, [r.count for r in rows], color=PALETTE[0], height=0.7)
    ax.set_yticks(list(y), labels=labels, fontfamily="monospace")
    ax.invert_yaxis()  # first merge on top
    ax.grid(axis="y", visible=False)
    ax.set(xlabel="occurrences of the pair when it was merged")
    return fig


def plot_vocab_size(curve: VocabCurve, *, ax=None):
    """Vocabulary size and tokens in use against the number of merges, beside
    the word-level vocabulary. Returns the ``Figure``."""
    fig, ax = _fig_ax(ax)
    ax.plot(curve.num_merges, curve.vocab_size, label="BPE vocabulary (256 + merges)")
    ax.plot(curve.num_merges, curve.used_tokens, label="BPE tokens in use")
    ax.axhline(curve.word_vocab_size, color=PALETTE[2], linestyle=":",
               label="word vocabulary")
    ax.set(xlabel="number of merges", ylabel="number of tokens",
           ylim=(0, 1.45 * max(curve.vocab_size)))
    ax.legend(loc="upper left")
    return fig


def plot_sequence_length(curve: VocabCurve, *, ax=None):
    """Mean tokens per held-out sentence against the number of merges, beside
    the number of words per sentence. Returns the ``Figure``."""
    fig, ax = _fig_ax(ax)
    ax.plot(curve.num_merges, curve.tokens_per_sentence, color=PALETTE[1],
            linestyle="--", label="BPE tokens")
    ax.axhline(curve.words_per_sentence, color=PALETTE[2], linestyle=":",
               label="words")
    ax.set(xlabel="number of merges", ylabel="tokens per sentence", ylim=(0, None))
    ax.legend()
    return fig


def _token_box(ax, x, y, w, token, shade, hatch=None):
    ax.add_patch(mpatches.Rectangle((x, y - 0.36), w, 0.72, facecolor=shade,
                                    edgecolor="black", linewidth=0.6, hatch=hatch))
    ax.text(x + w / 2, y, token, ha="center", va="center", fontsize=7,
            fontfamily="monospace")


def draw_segmentation(segmentation: Segmentation, *, ax=None):
    """The sentence split into words (top row; unknown words hatched, at their
    place in the sentence) and into BPE tokens (one row per entry of
    ``segmentation.rows``), one box per token, as wide as its text.
    Returns the ``Figure``."""
    seg = segmentation
    rows = [("words", None), *seg.rows]
    fig, ax = _fig_ax(ax, height=0.42 * len(rows) + 0.3)
    start = 0
    for k, (word, token) in enumerate(zip(seg.words, seg.word_tokens)):
        start = seg.sentence.lower().find(word, start)
        unknown = token != word
        _token_box(ax, start, 0, len(word), token,
                   "#FBE3D2" if unknown else ("#DCEBF7", "#D9F0E6")[k % 2],
                   hatch="///" if unknown else None)
        start += len(word)
    for r, (_, tokens) in enumerate(seg.rows, start=1):
        x = 0
        for k, token in enumerate(tokens):
            _token_box(ax, x, -r, len(token), token, ("#DCEBF7", "#D9F0E6")[k % 2])
            x += len(token)
    for r, (label, _) in enumerate(rows):
        ax.text(-0.6, -r, label, ha="right", va="center", fontsize=8)
    ax.set_xlim(-0.2, len(seg.sentence) + 0.2)
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.axis("off")
    return fig
