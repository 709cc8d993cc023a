"""Regularization from scratch: inverted dropout and early stopping.

:func:`dropout` and the module :class:`Dropout` behave like
``torch.nn.functional.dropout`` and ``torch.nn.Dropout``;
:class:`EarlyStopping` plugs into :func:`introdl.training.fit`. The module also
holds the experiments and figures of the chapter "Regularization".
"""

from __future__ import annotations

import copy
import math
import numbers

import torch

from introdl.checks import check_number, check_positive_int, check_tensor

__all__ = ["dropout_mask", "apply_dropout_mask", "dropout", "Dropout",
           "EarlyStopping", "replay_early_stopping", "corrupt_labels", "digits_mlp",
           "train_digits", "draw_dropout", "plot_dropout_curves",
           "plot_early_stopping"]


def _check_p(p) -> float:
    return check_number("p", p, low=0, high=1)


def dropout_mask(x: torch.Tensor, p: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """A random keep-mask of the shape of ``x``: each entry is 1 (keep) with
    probability ``1 - p`` and 0 (drop) with probability ``p``, independently.

    Returns a tensor of ``x``'s shape, dtype and device. Raises ``ValueError``
    if ``p`` is outside ``[0, 1]``.
    """
    check_tensor("x", x, floating=True)
    p = _check_p(p)
    return torch.empty_like(x).bernoulli_(1 - p, generator=generator)


def apply_dropout_mask(x: torch.Tensor, mask: torch.Tensor,
                       p: float) -> torch.Tensor:
    """Zero the entries of ``x`` where ``mask`` is 0 and scale the kept ones by
    ``1 / (1 - p)``, so that the expected output equals ``x`` (inverted
    dropout). With ``p == 1`` nothing is kept and the result is all zeros.

    Args:
        x: floating-point tensor of any shape.
        mask: 0/1 tensor of the same shape (see :func:`dropout_mask`).
        p: the drop probability the mask was drawn with.
    """
    check_tensor("x", x, floating=True)
    p = _check_p(p)
    if mask.shape != x.shape:
        raise ValueError(f"mask must have the shape of x {tuple(x.shape)}, got "
                         f"{tuple(mask.shape)}")
    if p == 1:
        return x * torch.zeros((), dtype=x.dtype, device=x.device)
    return x * (mask / (1 - p))  # dropped entries: 0; kept: x / (1 - p)


def dropout(x: torch.Tensor, p: float, training: bool = True,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout: zero each entry of ``x`` with probability ``p`` and
    scale the survivors by ``1 / (1 - p)``.

    Args:
        x: floating-point tensor of any shape, e.g. activations ``(B, H)``.
        p: drop probability in ``[0, 1]``.
        training: if false, return ``x`` unchanged (evaluation needs no
            rescaling, because training already did it).
        generator: draws the mask reproducibly; ``None`` uses PyTorch's
            global generator.
    Returns:
        A tensor of ``x``'s shape. A dropped entry passes no gradient back.
    Raises:
        ValueError: if ``p`` is outside ``[0, 1]``.
    """
    check_tensor("x", x, floating=True)
    p = _check_p(p)
    if not training or p == 0:
        return x
    return apply_dropout_mask(x, dropout_mask(x, p, generator), p)


class Dropout(torch.nn.Module):
    """:func:`dropout` as a layer: active in ``train()`` mode, the identity in
    ``eval()`` mode, like ``torch.nn.Dropout``. It has no parameters.

    Args:
        p: drop probability in ``[0, 1]``.
        generator: optional ``torch.Generator`` for reproducible masks.
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None):
        super().__init__()
        self.p = _check_p(p)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply :func:`dropout` to ``x`` (any shape) if the module is training."""
        return dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class EarlyStopping:
    """Stop training when the validation loss stops improving; keep the best
    state.

    Call :meth:`step` once per epoch (epochs count from 0) with the validation
    loss. Use a fresh object for each training run.

    Args:
        patience: how many consecutive epochs without improvement end the run;
            0 behaves like 1 (as in Keras and PyTorch Lightning).
        min_delta: an epoch improves only if its value is below
            ``best - min_delta``.
    Attributes:
        best: lowest value seen so far (``inf`` before the first step).
        best_epoch: the epoch of ``best`` (``None`` before the first improvement).
        best_state: deep copy of the ``state`` passed with ``best``.
        stopped_epoch: the epoch at which :meth:`step` said stop, else ``None``.
        num_bad_epochs: consecutive epochs without improvement so far.
    Raises:
        ValueError: if ``patience`` or ``min_delta`` is negative.
    """

    def __init__(self, patience: int, min_delta: float = 0.0):
        self.patience = check_positive_int("patience", patience, allow_zero=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.best = math.inf
        self.best_epoch = self.best_state = self.stopped_epoch = None
        self.num_bad_epochs = 0
        self.epoch = -1

    def step(self, value: float, state=None) -> bool:
        """Record one epoch's ``value``; return True if training should stop.

        A value of NaN never counts as an improvement. ``state`` (e.g.
        ``model.state_dict()``) is deep-copied when the epoch improves, so
        later training does not change ``best_state``.
        """
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"value must be a real number, got "
                            f"{type(value).__name__}")
        self.epoch += 1
        if value < self.best - self.min_delta:
            self.best, self.best_epoch = float(value), self.epoch
            self.best_state = copy.deepcopy(state)
            self.num_bad_epochs = 0
            return False
        self.num_bad_epochs += 1
        if self.num_bad_epochs >= max(self.patience, 1):
            self.stopped_epoch = self.epoch
            return True
        return False


def replay_early_stopping(values, patience: int,
                          min_delta: float = 0.0) -> EarlyStopping:
    """Feed recorded per-epoch ``values`` to a fresh :class:`EarlyStopping`
    until it says stop; return it (its ``best_epoch`` and ``stopped_epoch``
    tell where a run with this patience would have stopped)."""
    stopper = EarlyStopping(patience, min_delta)
    for value in values:
        if stopper.step(value):
            break
    return stopper


def corrupt_labels(y: torch.Tensor, fraction: float, num_classes: int = 10,
                   seed: int = 0) -> torch.Tensor:
    """Return a copy of the labels ``y`` ``(n,)`` in which a random share
    ``fraction`` of the entries is replaced by a different, random class
    (label noise, as in a data set with annotation mistakes)."""
    check_tensor("y", y)
    check_number("fraction", fraction, low=0, high=1)
    check_positive_int("num_classes", num_classes)
    g = torch.Generator().manual_seed(seed)
    wrong = torch.rand(y.shape, generator=g) < fraction  # (n,)
    shift = torch.randint(1, num_classes, y.shape, generator=g)  # (n,) never 0
    return torch.where(wrong, (y + shift) % num_classes, y)


def digits_mlp(hidden_size: int = 256, p: float = 0.0, seed: int = 0):
    """An over-sized network for the digits: ``64 -> H -> H -> 10`` with ReLU
    and a :class:`Dropout` of probability ``p`` after each hidden layer.

    The weights are initialized from ``seed`` (without touching PyTorch's
    global random state), and the dropout masks come from a generator seeded
    with ``seed``, so a run can be repeated exactly. Parameter names do not
    depend on ``p``.
    """
    check_positive_int("hidden_size", hidden_size)
    masks = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(
            torch.nn.Linear(64, hidden_size), torch.nn.ReLU(), Dropout(p, masks),
            torch.nn.Linear(hidden_size, hidden_size), torch.nn.ReLU(),
            Dropout(p, masks), torch.nn.Linear(hidden_size, 10))


def train_digits(model, split, *, num_epochs: int, lr: float = 3e-3,
                 batch_size: int = 50, early_stopping=None,
                 restore_best: bool = False, seed: int = 0):
    """Train ``model`` on ``split.train`` with Adam and cross-entropy, watching
    ``split.val``, via :func:`introdl.training.fit`; returns its ``History``
    (losses, and accuracies as the metric). Mini-batches are shuffled from
    ``seed``."""
    from introdl.training import accuracy, fit

    return fit(model, split.train, split.val,
               loss_fn=torch.nn.functional.cross_entropy,
               optimizer=torch.optim.Adam(model.parameters(), lr=lr),
               num_epochs=num_epochs, batch_size=batch_size, metric=accuracy,
               early_stopping=early_stopping, restore_best=restore_best,
               generator=torch.Generator().manual_seed(seed), progress=False)


def _draw_layers(ax, x0, sizes, dropped, dx=1.25, dy=0.72):
    """Nodes and edges of a small network; ``dropped`` holds (layer, unit)."""
    from introdl.figures import diagrams

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


def draw_dropout(p: float = 0.5, seed: int = 3):
    """Diagram: a small network with all its units, and the thinned networks
    that two dropout masks leave during two training steps (dropped hidden
    units crossed out, their connections gone).

    The masks over the hidden units are drawn with :func:`dropout_mask` from
    ``seed``. Returns the ``Figure``.
    """
    from introdl.figures import diagrams

    sizes = [3, 5, 5, 2]
    gen = torch.Generator().manual_seed(seed)
    fig, ax = diagrams.new_diagram(6.4, 2.4, xlim=(-0.3, 14.3), ylim=(-0.1, 4.0))
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
    return fig


def plot_dropout_curves(histories: dict, *, axes=None):
    """Training and validation loss (left) and validation accuracy (right) of
    several runs, e.g. ``{"no dropout": h0, "dropout p = 0.5": h1}``.

    Each run gets one colour; training curves are dashed, validation solid.
    Returns the ``Figure``.
    """
    from introdl.figures.style import PALETTE, new_figure

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


def plot_early_stopping(history, *, ax=None, best_epoch: int | None = None,
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
    from introdl.figures.style import PALETTE, new_figure

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
