"""Figures of the chapter "Decoding and evaluating a language model"."""

from collections.abc import Mapping, Sequence

import torch
from matplotlib.transforms import Bbox

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
    labelled with its parameter (``tau``, ``k`` or ``p``), on a side of the
    point where the label crosses no line, marker or other label. ``families``
    chooses the families drawn (default: all). Draws on ``ax`` if given;
    returns the ``Figure``."""
    if ax is None:
        _, ax = new_figure(width=5.6, height=3.8)
    markers = {"greedy": "s", "temperature": "o", "top-k": "^", "top-p": "D"}
    names = {"greedy": "greedy", "temperature": r"temperature $\tau$",
             "top-k": "top-$k$", "top-p": "top-$p$ (nucleus)"}
    # where each family tries to write its labels first
    first_place = {"temperature": "below left", "top-k": "below", "top-p": "above"}
    if families is None:
        families = list(dict.fromkeys(sweep.families))  # in order of appearance
    unknown = set(families) - set(sweep.families)
    if unknown:
        raise ValueError(f"families {sorted(unknown)} are not in the sweep")
    labels = []  # (text, point, colour, first place) of every labelled point
    for k, family in enumerate(families):
        idx = [i for i, f in enumerate(sweep.families) if f == family]
        color = PALETTE[k % len(PALETTE)]
        ax.plot([sweep.distinct[i] for i in idx], [sweep.grammatical[i] for i in idx],
                marker=markers.get(family, "o"), color=color,
                linestyle=LINESTYLES[k % len(LINESTYLES)],
                label=names.get(family, family))
        if family == "greedy":
            continue  # the legend names it
        for i in idx:
            xy = (sweep.distinct[i], sweep.grammatical[i])
            labels.append((f"{sweep.values[i]:g}", xy, color,
                           first_place.get(family, "right")))
    ax.set(xlabel="distinct samples (share)", ylabel="grammatical samples (share)",
           xlim=(-0.02, 1.1), ylim=(-0.02, 1.06))
    ax.legend(loc="lower left")
    _place_labels(ax, labels)
    return ax.figure


#: Where a point's label can go: offset in points, horizontal and vertical alignment.
_PLACES = {"above": ((0, 6), "center", "bottom"), "below": ((0, -6), "center", "top"),
           "right": ((6, 0), "left", "center"), "left": ((-6, 0), "right", "center"),
           "above right": ((5, 4), "left", "bottom"),
           "above left": ((-5, 4), "right", "bottom"),
           "below right": ((5, -4), "left", "top"),
           "below left": ((-5, -4), "right", "top")}


def _place_labels(ax, labels, fontsize: float = 8) -> None:
    """Write each label (text, (x, y), colour, first place) beside its point, at
    the first place around it (its own first place, then the others of
    :data:`_PLACES`) where it crosses no line, marker, legend or label already
    written, and stays inside the axes. If no place is free, the first is used."""
    fig = ax.figure
    fig.draw_without_rendering()  # settles the layout, and so the pixel positions
    paths = [line.get_transform().transform_path(line.get_path()) for line in ax.lines]
    boxes = [ax.get_legend().get_window_extent()] if ax.get_legend() else []
    for line in ax.lines:  # a box around every marker
        r = line.get_markersize() / 2 * fig.dpi / 72  # points to pixels
        for x, y in line.get_transform().transform(line.get_xydata()):
            boxes.append(Bbox([[x - r, y - r], [x + r, y + r]]))
    inside = ax.get_window_extent()

    def write(text, xy, color, place):
        offset, ha, va = _PLACES[place]
        note = ax.annotate(text, xy, xytext=offset, textcoords="offset points",
                           ha=ha, va=va, fontsize=fontsize, color=color)
        return note, note.get_window_extent().padded(1)

    def free(box):
        return (inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
                and not any(b.overlaps(box) for b in boxes)
                and not any(p.intersects_bbox(box, filled=False) for p in paths))

    for text, xy, color, first in labels:
        for place in (first, *(p for p in _PLACES if p != first)):
            note, box = write(text, xy, color, place)
            if free(box):
                break
            note.remove()
        else:  # nowhere free: the first place after all
            note, box = write(text, xy, color, first)
        boxes.append(box)
