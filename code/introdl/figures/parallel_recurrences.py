"""Figures of the chapter "Recurrences that parallelise"."""

from introdl.experiments.parallel_recurrences import RecurrenceTimings
from introdl.figures import diagrams
from introdl.figures.style import PALETTE, new_figure

__all__ = ["plot_recurrence_timings", "plot_sequential_steps", "draw_scan"]


def _fig_ax(ax):
    if ax is None:
        return new_figure()
    return ax.figure, ax


def _log2_axis(ax, lengths):
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(lengths), labels=[str(n) for n in lengths])
    ax.minorticks_off()


def plot_recurrence_timings(timings: RecurrenceTimings, *, ax=None):
    """Milliseconds of the loop and of the scan against the length (log-log).
    Returns the ``Figure``."""
    fig, ax = _fig_ax(ax)
    for seconds, label, marker in ((timings.sequential_seconds, "loop", "o"),
                                   (timings.parallel_seconds, "parallel scan", "s")):
        ax.plot(timings.lengths, [1e3 * s for s in seconds], marker=marker,
                label=label)
    _log2_axis(ax, timings.lengths)
    ax.set_yscale("log")
    ax.set(xlabel="sequence length $T$", ylabel="time (ms)")
    ax.legend()
    return fig


def plot_sequential_steps(timings: RecurrenceTimings, *, ax=None):
    """Sequential steps of the loop (``T``) and of the scan (``log2 T``)
    against the length, both axes logarithmic. Returns the ``Figure``."""
    fig, ax = _fig_ax(ax)
    ax.plot(timings.lengths, timings.sequential_steps, marker="o", label="loop: $T$")
    ax.plot(timings.lengths, timings.parallel_steps, marker="s",
            label=r"parallel scan: $\lceil \log_2 T \rceil$")
    _log2_axis(ax, timings.lengths)
    ax.set_yscale("log", base=2)
    ticks = sorted({*timings.sequential_steps, min(timings.parallel_steps)})
    ax.set_yticks(ticks, labels=[str(n) for n in ticks])
    ax.minorticks_off()
    ax.annotate(str(timings.parallel_steps[-1]),
                (timings.lengths[-1], timings.parallel_steps[-1]),
                textcoords="offset points", xytext=(0, 7), ha="center", fontsize=9)
    ax.set(xlabel="sequence length $T$", ylabel="sequential steps")
    ax.legend()
    return fig


def draw_scan(length: int = 8, *, ax=None):
    """The Hillis-Steele scan on ``length`` positions: one row per round; an
    arrow from position ``t - d`` joins position ``t`` (offset ``d = 1, 2, 4,
    ...``); each node is labelled with the steps its map covers.
    Returns the ``Figure``."""
    if not 2 <= length <= 16:
        raise ValueError(f"length must lie in [2, 16], got {length}")
    rounds = (length - 1).bit_length()  # ceil(log2 length)
    height = 1.25 * rounds + 1.0
    ax = diagrams.diagram_axes(ax, 6.4, 6.4 * height / (length + 1.6),
                               xlim=(-1.4, length + 0.2), ylim=(-0.5, height - 0.5))
    lo = list(range(1, length + 1))  # position t covers steps lo[t]..t
    for r in range(rounds + 1):
        y = height - 1.0 - 1.25 * r
        diagrams.caption(ax, (-0.75, y), "input" if r == 0 else f"d = {2 ** (r - 1)}",
                         fontsize=8)
        if r > 0:
            d = 2 ** (r - 1)
            for t in range(length):
                diagrams.arrow(ax, (t + 0.5, y + 1.25), (t + 0.5, y), r_start=0.33,
                               r_end=0.33, color="#888888")
                if t >= d:
                    diagrams.arrow(ax, (t - d + 0.5, y + 1.25), (t + 0.5, y),
                                   r_start=0.33, r_end=0.33, color=PALETTE[1])
            lo = [lo[t - d] if t >= d else lo[t] for t in range(length)]
        for t in range(length):
            label = f"{t + 1}" if lo[t] == t + 1 else f"{lo[t]}:{t + 1}"
            diagrams.node(ax, (t + 0.5, y), label, radius=0.33,
                          kind="input" if r == 0 else "state", fontsize=7)
    return ax.figure
