"""Figures of the chapter "Regularization": the dropout diagram, training curves
with and without dropout, and the early-stopping curve."""

import torch

from introdl.figures import diagrams
from introdl.figures.style import PALETTE, new_figure
from introdl.regularization import dropout_mask
from introdl.training import History

__all__ = ["draw_dropout", "plot_dropout_curves", "plot_early_stopping"]


def _draw_layers(ax, x0, sizes, dropped, dx=1.25, dy=0.72):
    """Nodes and edges of a small network; ``dropped`` holds (layer, unit)."""
    kinds = ["input"] + ["hidden"] * (len(sizes) - 2) + ["output"]
    pos = [[(x0 + i * dx, 1.8 + (n - 1) * dy / 2 - j * dy) for j in range(n)]
           for i, n in enumerate(sizes)]
    for i in range(len(sizes) - 1):
        for j, a in enumerate(pos[i]):
            for k, b in enumerate(pos[i + 1]):
                if (i, j) not in dropped and (i + 1, k) not in dropped:
                    diagrams.arrow(ax, a, b, r_start=0.2, r_end=0.2, style="-",
                                   color="#444444")
    for i, layer in enumerate(pos):
        for j, (x, y) in enumerate(layer):
            off = (i, j) in dropped
            diagrams.node(ax, (x, y), kind="plain" if off else kinds[i], radius=0.2)
            for sign in (1, -1) if off else ():  # a cross over a dropped unit
                ax.plot([x - 0.14, x + 0.14], [y - sign * 0.14, y + sign * 0.14],
                        color="black", linestyle="-", linewidth=1.2, zorder=5)


def draw_dropout(p: float = 0.5, seed: int = 3, *, ax=None):
    """Diagram: a small network with all its units, and the thinned networks
    that two dropout masks leave during two training steps (dropped hidden
    units crossed out, their connections gone).

    The masks over the hidden units are drawn with
    :func:`~introdl.regularization.dropout_mask` from ``seed``. Returns the
    ``Figure``.
    """
    sizes = [3, 5, 5, 2]
    gen = torch.Generator().manual_seed(seed)
    ax = diagrams.diagram_axes(ax, 6.4, 2.4, xlim=(-0.3, 14.3), ylim=(-0.1, 4.0))
    titles = ["all units (evaluation)", "training step $t$", "training step $t + 1$"]
    for panel, title in enumerate(titles):
        dropped = set()
        if panel:
            keep = [dropout_mask(torch.zeros(n), p, gen) for n in sizes[1:-1]]
            dropped = {(i + 1, j) for i, m in enumerate(keep)
                       for j in range(len(m)) if m[j] == 0}
        x0 = 0.2 + panel * 4.9
        _draw_layers(ax, x0, sizes, dropped)
        diagrams.caption(ax, (x0 + 1.875, 3.85), title)
    return ax.figure


def plot_dropout_curves(histories: dict, *, axes=None):
    """Training and validation loss (left) and validation accuracy (right) of
    several runs, e.g. ``{"no dropout": h0, "dropout p = 0.5": h1}``.

    Each run gets one colour; training curves are dashed, validation solid.
    Returns the ``Figure``.
    """
    if axes is None:
        _, axes = new_figure(ncols=2, height=3.2)
    for color, (name, h) in zip(PALETTE, histories.items()):
        epochs = range(h.num_epochs)
        axes[0].plot(epochs, h.train_loss, color=color, linestyle="--",
                     label=f"{name}, training")
        axes[0].plot(epochs, h.val_loss, color=color, linestyle="-",
                     label=f"{name}, validation")
        axes[1].plot(epochs, h.val_metric, color=color, linestyle="-", label=name)
    axes[0].set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy")
    fig = axes[0].figure
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=2)
    return fig


def plot_early_stopping(history: History, *, ax=None, best_epoch: int | None = None,
                        stopped_epoch: int | None = None,
                        patience: int | None = None):
    """The early-stopping picture: training and validation loss against
    epochs, the best and the stopping epoch marked, and the stretch where the
    model overfits (after the best epoch) shaded.

    Args:
        history: an :class:`introdl.training.History` with ``train_loss`` and
            ``val_loss`` (epochs count from 0).
        best_epoch, stopped_epoch: default to the history's own; epochs after
            ``stopped_epoch`` are drawn faint: what training on would give.
        patience: if given, the gap between best and stop is labelled with it.
    Returns:
        The ``Figure``.
    """
    best = history.best_epoch if best_epoch is None else best_epoch
    stop = history.stopped_epoch if stopped_epoch is None else stopped_epoch
    if not history.val_loss or best is None:
        raise ValueError("history must have val_loss, and best_epoch must be known")
    if ax is None:
        _, ax = new_figure(height=3.8)
    last = history.num_epochs - 1
    end = last if stop is None else stop
    ax.axvspan(best, last + 0.5, color=PALETTE[1], alpha=0.10, linewidth=0)
    for ys, color, style, name in ((history.train_loss, PALETTE[0], "--", "training"),
                                   (history.val_loss, PALETTE[1], "-", "validation")):
        ax.plot(range(end + 1), ys[:end + 1], color=color, linestyle=style,
                label=f"{name} loss")
        if end < last:
            ax.plot(range(end, last + 1), ys[end:], color=color, linestyle=style,
                    alpha=0.35, label="training on, had we not stopped"
                    if name == "validation" else None)
    if end < last:  # where training on would have ended
        ax.annotate(f"epoch {last}: {history.val_loss[last]:.3f}",
                    (last, history.val_loss[last]), xytext=(-4, 10),
                    textcoords="offset points", ha="right", fontsize=8.5,
                    color="#555555")
    ax.axvline(best, color="black", linestyle=":", linewidth=1.1)
    ax.plot(best, history.val_loss[best], marker="*", markersize=14, zorder=5,
            color=PALETTE[1], markeredgecolor="black", linestyle="none",
            label=f"best epoch {best} (validation loss "
                  f"{history.val_loss[best]:.3f})")
    top = max(max(history.train_loss), max(history.val_loss))
    if stop is not None:
        ax.axvline(stop, color="black", linestyle="-.", linewidth=1.1)
        ax.plot(stop, history.val_loss[stop], marker="X", markersize=9, zorder=5,
                color="black", linestyle="none", label=f"stop at epoch {stop}")
        if patience is not None:
            ax.annotate("", (best, 0.55 * top), (stop, 0.55 * top),
                        arrowprops=dict(arrowstyle="<->", linewidth=0.9))
            ax.text(stop + 1, 0.55 * top, f"patience:\n{patience} epochs",
                    va="center", fontsize=8.5)
    ax.text(best / 2, 1.02 * top, "still learning", ha="center", va="bottom",
            fontsize=9, style="italic")
    ax.text((best + last) / 2, 1.02 * top, "overfitting: validation loss rises, "
            "training loss still falls", ha="center", va="bottom", fontsize=9,
            style="italic")
    ax.set(xlabel="epoch", ylabel="cross-entropy loss", xlim=(0, last + 0.5),
           ylim=(0, 1.12 * top))
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9))
    return ax.figure
