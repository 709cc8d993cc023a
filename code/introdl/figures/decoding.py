"""Figures of the chapter "Decoding and evaluating a language model"."""

from collections.abc import Mapping, Sequence

import torch

from introdl.experiments.decoding import SamplingSweep
from introdl.figures.style import LINESTYLES, PALETTE, new_figure, panel_axes

__all__ = ["plot_next_token_distributions", "plot_quality_diversity"]


def plot_next_token_distributions(distributions: Mapping[str, torch.Tensor],
                                  itos: Sequence[str], num_tokens: int = 12, *,
                                  axes=None):
    """Bar charts of next-token distributions, one panel per entry of
    ``distributions`` (title -> probabilities ``(V,)``).

    Every panel shows the same ``num_tokens`` tokens, the most probable under
    the first distribution, in that order, labelled by ``itos``; a token that
    a filter removed has no bar. Draws on ``axes`` (one per panel) if given;
    returns the ``Figure``.
    """
    axes = panel_axes(len(distributions), axes, height=2.6, what="distributions")
    first = next(iter(distributions.values()))
    order = first.argsort(descending=True, stable=True)[:num_tokens].tolist()
    for i, (ax, (title, probs)) in enumerate(zip(axes, distributions.items())):
        if probs.shape != first.shape:
            raise ValueError(f"distribution {title!r} has shape {tuple(probs.shape)},"
                             f" the first {tuple(first.shape)}")
        heights = probs.detach()[order].tolist()
        ax.bar(range(len(order)), heights, color=PALETTE[i % len(PALETTE)],
               edgecolor="black", linewidth=0.5)
        kept = int((probs > 0).sum())
        ax.set_title(f"{title}\n({kept} of {len(probs)} tokens kept)", fontsize=9.5)
        ax.set_xticks(range(len(order)), labels=[itos[j] for j in order],
                      rotation=90, fontsize=8)
        ax.set_ylim(0, 1.05 * max(float(p.max()) for p in distributions.values()))
        ax.grid(axis="x", visible=False)
    axes[0].set_ylabel("probability of the next token")
    return axes[0].figure


def plot_quality_diversity(sweep: SamplingSweep, families: Sequence[str] | None = None,
                           *, ax=None):
    """Each decoding setting of ``sweep`` as a point: the share of distinct
    samples (x) against the share of grammatical ones (y). Settings of one
    family (temperature, top-k, top-p) are joined by a line, and each point is
    labelled with its parameter (``tau``, ``k`` or ``p``). ``families``
    chooses the families drawn (default: all). Draws on ``ax`` if given;
    returns the ``Figure``."""
    if ax is None:
        _, ax = new_figure(width=5.6, height=3.8)
    markers = {"greedy": "s", "temperature": "o", "top-k": "^", "top-p": "D"}
    names = {"greedy": "greedy", "temperature": r"temperature $\tau$",
             "top-k": "top-$k$", "top-p": "top-$p$ (nucleus)"}
    # where each family writes its labels: (offset in points, alignment)
    places = {"temperature": ((-6, -3), "right", "top"),
              "top-k": ((0, -8), "center", "top"),
              "top-p": ((0, 7), "center", "bottom")}
    if families is None:
        families = list(dict.fromkeys(sweep.families))  # in order of appearance
    unknown = set(families) - set(sweep.families)
    if unknown:
        raise ValueError(f"families {sorted(unknown)} are not in the sweep")
    for k, family in enumerate(families):
        idx = [i for i, f in enumerate(sweep.families) if f == family]
        color = PALETTE[k % len(PALETTE)]
        ax.plot([sweep.distinct[i] for i in idx], [sweep.grammatical[i] for i in idx],
                marker=markers.get(family, "o"), color=color,
                linestyle=LINESTYLES[k % len(LINESTYLES)],
                label=names.get(family, family))
        offset, ha, va = places.get(family, ((6, -2), "left", "top"))
        for i in idx:
            if family == "greedy":
                continue  # the legend names it
            xy = (sweep.distinct[i], sweep.grammatical[i])
            ax.annotate(f"{sweep.values[i]:g}", xy, xytext=offset, fontsize=8,
                        textcoords="offset points", ha=ha, va=va, color=color)
    ax.set(xlabel="distinct samples (share)", ylabel="grammatical samples (share)",
           xlim=(-0.02, 1.1), ylim=(-0.02, 1.06))
    ax.legend(loc="lower left")
    return ax.figure
