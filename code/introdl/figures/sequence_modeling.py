"""Figures of the chapter "Deep sequence modeling"."""

from collections import Counter
from collections.abc import Mapping, Sequence

import torch

from introdl.checks import check_positive_int
from introdl.experiments.sequence_modeling import EchoRun
from introdl.figures import diagrams
from introdl.figures.style import PALETTE, new_figure, plot_curves, plot_heatmap

__all__ = ["draw_naive_sequence_model", "plot_accuracy_curves", "plot_length_histogram",
           "plot_pronoun_statistics", "plot_order_demo", "plot_parameter_counts"]


def draw_naive_sequence_model(num_steps: int = 4):
    """Diagram of the naive approach: one feed-forward network (the same box,
    the same weights) maps each ``x_t`` to ``y_hat_t``, with no link between
    time steps (the notes' missing "naive_sequence_modeling" image)."""
    check_positive_int("num_steps", num_steps)
    fig, ax = diagrams.new_diagram(6.4, 2.9, xlim=(0, 2.2 * num_steps + 0.4),
                                   ylim=(-0.4, 4.9))
    for t in range(num_steps):
        x = 1.2 + 2.2 * t
        diagrams.node(ax, (x, 0.5), f"$x_{t + 1}$", kind="input")  # t = 1..T
        diagrams.box(ax, (x, 2.2), "feed-forward\nnetwork", width=1.7, height=1.0,
                     kind="hidden", fontsize=8)
        diagrams.node(ax, (x, 3.9), rf"$\hat y_{t + 1}$", kind="output")
        diagrams.arrow(ax, (x, 0.5), (x, 2.2), r_end=0.5)
        diagrams.arrow(ax, (x, 2.2), (x, 3.9), r_start=0.5)
        if t:
            ax.text(x - 1.1, 2.2, r"$\times$", ha="center", va="center", fontsize=14,
                    color="#888888")
    diagrams.caption(ax, (1.1 * num_steps + 0.2, -0.3),
                     "the same network at every step; nothing passes between steps")
    return fig


def plot_accuracy_curves(results: Mapping[str, EchoRun], chance: float, *, ax=None):
    """Validation accuracy per epoch of each run in ``results`` (as returned by
    :func:`~introdl.experiments.sequence_modeling.train_echo_models`), with a
    dotted line at ``chance``. Returns the Figure."""
    curves = {name: run.history.val_metric for name, run in results.items()}
    fig = plot_curves(curves, ax=ax, ylabel="validation accuracy")
    ax = fig.axes[0] if ax is None else ax
    ax.axhline(chance, color="#888888", linestyle=":", linewidth=1.2)
    ax.text(0, chance + 0.02, "chance", color="#555555", fontsize=8, va="bottom")
    ax.set_ylim(0, 1.05)
    return fig


def plot_length_histogram(lengths: Sequence[int], *, ax=None, unit: str = "tokens"):
    """Bar chart of how many sequences have each length. Returns the Figure."""
    if len(lengths) == 0:
        raise ValueError("lengths must not be empty")
    fig, ax = new_figure(height=2.8) if ax is None else (ax.figure, ax)
    counts = Counter(int(n) for n in lengths)
    xs = sorted(counts)
    ax.bar(xs, [counts[x] for x in xs], color=PALETTE[0], edgecolor="black",
           linewidth=0.5)
    ax.set(xlabel=f"sequence length ({unit})", ylabel="number of sequences",
           xticks=xs)
    return fig


def plot_pronoun_statistics(stats: Mapping[str, float], *, ax=None):
    """Horizontal bars of the probabilities of
    :func:`~introdl.experiments.sequence_modeling.pronoun_statistics`."""
    fig, ax = new_figure(height=2.2) if ax is None else (ax.figure, ax)
    names = list(stats)[::-1]
    values = [stats[n] for n in names]
    bars = ax.barh(names, values, color=[PALETTE[k] for k in (2, 1, 0)][:len(names)],
                   edgecolor="black", linewidth=0.5)
    for hatch, bar in zip(("//", "..", ""), bars):
        bar.set_hatch(hatch)  # tells the bars apart in black and white
    for y, v in enumerate(values):
        ax.text(v + 0.02, y, f"{v:.0%}", va="center", fontsize=9)
    ax.set(xlim=(0, 1.15), xlabel='probability that the pronoun is "she"')
    ax.grid(axis="y", visible=False)
    return fig


def plot_order_demo(bags: torch.Tensor, states: torch.Tensor, names: Sequence[str],
                    vocab_words: Sequence[str], *, axes=None):
    """Two heatmaps side by side, one row per sentence: bag-of-words counts
    (left, ``bags`` ``(n, V)`` over ``vocab_words``) and an RNN's final hidden
    states (right, ``states`` ``(n, H)``), each cell labelled with its value.
    ``axes``: two axes to draw on (default: a new figure). Returns the Figure."""
    if axes is None:
        _, axes = new_figure(ncols=2, height=1.2 + 0.35 * len(names))
    a, b = axes
    plot_heatmap(bags, ax=a, xlabels=vocab_words, ylabels=names, cmap="Greys",
                 vmin=0, vmax=2 * max(1.0, float(bags.max())), colorbar=False,
                 title="bag of words (counts)")
    for (i, j), v in zip(torch.cartesian_prod(torch.arange(bags.shape[0]),
                                              torch.arange(bags.shape[1])).tolist(),
                         bags.flatten().tolist()):
        a.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8)
    plot_heatmap(states.detach(), ax=b, ylabels=[""] * len(names), vmin=-1, vmax=1,
                 xlabel="hidden unit", title="RNN's last hidden state",
                 colorbar=False, annotate=True)
    b.set_xticks(range(states.shape[1]))
    b.set_xticklabels([str(i) for i in range(states.shape[1])], fontsize=7)
    return a.figure


def plot_parameter_counts(seq_lens: Sequence[int], counts: Mapping[str, list[int]], *,
                          ax=None):
    """Parameters against sequence length (both axes logarithmic), as from
    :func:`~introdl.experiments.sequence_modeling.parameter_counts`. Returns the
    Figure."""
    fig = plot_curves(counts, x=list(seq_lens), ax=ax, xlabel="sequence length T",
                      ylabel="number of parameters", logy=True)
    ax = fig.axes[0] if ax is None else ax
    ax.set_xscale("log")
    for line, marker in zip(ax.lines, "os"):
        line.set_marker(marker)
        line.set_markersize(4)
    return fig
