"""Figures of the chapter "Scaling up"."""

from collections.abc import Sequence

import matplotlib.patches as mpatches

from introdl.experiments.scaling_up import DDPComparison
from introdl.figures.style import PALETTE, new_figure

__all__ = ["plot_ddp_losses", "draw_sampler_shards"]

#: Light fills for the processes' cells (black text reads on each, also in grey).
RANK_FILLS = ["#DCEBF7", "#F2B56B", "#9FD9C2", "#E3A6CB"]


def _fig_ax(ax, **kwargs):
    if ax is None:
        return new_figure(**kwargs)
    return ax.figure, ax


def plot_ddp_losses(result: DDPComparison, *, ax=None):
    """Loss of every step: one process on the global batch (line), the mean of
    the processes' losses (markers) and each process's own share (thin).
    Returns the ``Figure``."""
    fig, ax = _fig_ax(ax)
    steps = range(1, len(result.single_losses) + 1)
    for r, losses in enumerate(result.rank_losses):
        ax.plot(steps, losses, linewidth=1.1, color=PALETTE[2 + r % 4],
                linestyle=":", label=f"process {r}: its half" if
                result.world_size == 2 else f"process {r}: its share")
    ax.plot(steps, result.single_losses, color=PALETTE[0], linestyle="-",
            label="one process, global batch")
    mean = [sum(ls) / len(ls) for ls in zip(*result.rank_losses)]
    ax.plot(steps, mean, color=PALETTE[1], linestyle="none", marker="o",
            markersize=4, label=f"mean over the {result.world_size} processes")
    ax.set(xlabel="step", ylabel="cross-entropy loss")
    ax.legend()
    return fig


def draw_sampler_shards(shards: Sequence[Sequence[Sequence[int]]], *, ax=None):
    """One row per global batch: its examples in the sampler's order, each
    cell coloured (and labelled) by the process that gets it.
    ``shards[step][rank]`` lists example indices. Returns the ``Figure``."""
    if not shards or not shards[0]:
        raise ValueError("shards must hold at least one step and one process")
    world_size = len(shards[0])
    per_rank = len(shards[0][0])
    width = world_size * per_rank
    fig, ax = _fig_ax(ax, height=0.55 * len(shards) + 0.9)
    for s, ranks in enumerate(shards):
        y = -s
        ax.text(-0.4, y, f"batch {s + 1}", ha="right", va="center", fontsize=9)
        for r, indices in enumerate(ranks):
            for j, index in enumerate(indices):
                x = j * world_size + r  # the sampler deals the examples out in turn
                ax.add_patch(mpatches.Rectangle(
                    (x, y - 0.4), 1, 0.8, facecolor=RANK_FILLS[r % len(RANK_FILLS)],
                    edgecolor="black", linewidth=0.6))
                ax.text(x + 0.5, y, str(index), ha="center", va="center", fontsize=8)
    for r in range(world_size):
        ax.add_patch(mpatches.Rectangle((0, 0), 0, 0, facecolor=RANK_FILLS[r % 4],
                                        edgecolor="black", label=f"process {r}"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=world_size,
              frameon=False)
    ax.set_xlim(-0.1, width + 0.1)
    ax.set_ylim(-len(shards) + 0.4, 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig
