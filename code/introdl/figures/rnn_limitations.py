"""Figures of the chapter "Limitations of recurrent models"."""

from introdl.experiments.rnn_limitations import Parallelism, Recall, Timings
from introdl.figures import diagrams
from introdl.figures.style import PALETTE, log_ticks, new_figure

__all__ = ["draw_sequential_vs_parallel", "plot_timings", "plot_parallelism",
           "plot_recall"]

# legend labels of the layers timed by experiments.rnn_limitations.time_layers
_TIMING_LABELS = {"recurrent": "recurrent layer (nn.RNN)",
                 "no waiting": "same arithmetic, no waiting",
                 "attention": "self-attention"}


def draw_sequential_vs_parallel(seq_len: int = 5, *, ax=None):
    """Left: a recurrent layer's chain of dependent steps, ``h_t`` waits for
    ``h_{t-1}``. Right: self-attention, every output computed from every
    input at once. Draws on ``ax`` if given. Returns the ``Figure``."""
    ax = diagrams.diagram_axes(ax, 6.4, 2.6, xlim=(0, 14), ylim=(0, 5.6))
    xs_left = [0.8 + 1.35 * t for t in range(seq_len)]
    xs_right = [8.0 + 1.35 * t for t in range(seq_len)]
    for t, x in enumerate(xs_left):
        diagrams.node(ax, (x, 1.0), f"$x_{t + 1}$", kind="input", radius=0.42)
        diagrams.node(ax, (x, 3.4), f"$h_{t + 1}$", kind="state", radius=0.42)
        diagrams.arrow(ax, (x, 1.0), (x, 3.4), r_start=0.42, r_end=0.42)
        if t:
            diagrams.arrow(ax, (xs_left[t - 1], 3.4), (x, 3.4), r_start=0.42,
                           r_end=0.42, color=PALETTE[1])
    for t, x in enumerate(xs_right):
        diagrams.node(ax, (x, 1.0), f"$x_{t + 1}$", kind="input", radius=0.42)
        diagrams.node(ax, (x, 3.4), f"$y_{t + 1}$", kind="output", radius=0.42)
        for x0 in xs_right:
            diagrams.arrow(ax, (x0, 1.0), (x, 3.4), r_start=0.42, r_end=0.42,
                           style="-", color="#777777")
    diagrams.caption(ax, (xs_left[seq_len // 2], 4.9),
                     f"recurrent: {seq_len} steps, one after another")
    diagrams.caption(ax, (xs_right[seq_len // 2], 4.9),
                     "self-attention: one step, all pairs")
    return ax.figure


def plot_timings(timings: Timings, *, ax=None):
    """Milliseconds per training step against sequence length (log-log), one
    curve per layer of ``timings`` (from
    :func:`~introdl.experiments.rnn_limitations.time_layers`). Draws on ``ax``
    if given. Returns the ``Figure``."""
    if ax is None:
        _, ax = new_figure()
    for name, marker in zip(timings.seconds, "o^s"):
        ax.plot(timings.lengths, [1e3 * t for t in timings.seconds[name]],
                marker=marker, label=_TIMING_LABELS.get(name, name))
    ax.set(xlabel="sequence length", ylabel="time per training step (ms)")
    log_ticks(ax, timings.lengths, y=True)
    ax.legend()
    return ax.figure


def plot_parallelism(par: Parallelism, *, axes=None):
    """Two log-log panels from
    :func:`~introdl.experiments.rnn_limitations.count_parallelism`, one curve
    per layer: the sequential depth (longest chain of dependent operations)
    against the sequence length, and the FLOPs available at each step of that
    chain. ``axes``: a pair of axes to draw on (a new figure if ``None``).
    Returns the ``Figure``."""
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.0)
    ax1, ax2 = axes
    for name, marker in zip(par.depth, "o^s"):
        label = _TIMING_LABELS.get(name, name)
        ax1.plot(par.lengths, par.depth[name], marker=marker, label=label)
        ax2.plot(par.lengths, par.flops_per_step[name], marker=marker, label=label)
    ax1.set(xlabel="sequence length", ylabel="dependent operations (depth)")
    ax2.set(xlabel="sequence length", ylabel="FLOPs per dependent operation")
    for ax in axes:
        log_ticks(ax, par.lengths, y=True)
    ax1.legend()
    return ax1.figure


def plot_recall(recall: Recall, chance: float, *, item: str = "symbols", ax=None):
    """Recall accuracy against sequence length, one curve per hidden size of
    ``recall`` (from :func:`~introdl.experiments.rnn_limitations.recall_vs_length`)
    for the encoders that read their final state (solid), and one per control
    with attention over all positions (dashed), with the chance level dotted;
    ``item`` names what is recalled in the axis labels. Draws on ``ax`` if
    given. Returns the ``Figure``."""
    if ax is None:
        _, ax = new_figure()
    colours, markers = iter(PALETTE), iter("o^vD")
    for H, accs in recall.accuracy.items():
        ax.plot(recall.lengths, accs, marker=next(markers), color=next(colours),
                linestyle="-", label=f"GRU, final state of size {H}")
    for H, accs in recall.attention.items():
        ax.plot(recall.lengths, accs, marker="s", color=next(colours),
                linestyle="--", label=f"GRU ({H}) + attention over all outputs")
    ax.axhline(chance, color="black", linestyle=":", linewidth=1, label="chance")
    ax.set(xlabel=f"sequence length ({item} to recall)",
           ylabel=f"{item} recalled correctly", ylim=(0, 1.05))
    ax.yaxis.set_major_formatter("{x:.0%}")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 0.12))  # above the chance line
    return ax.figure
