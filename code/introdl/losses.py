"""Loss functions written from scratch, each the mean over a batch.

Every loss equals its ``torch.nn.functional`` counterpart (``mse_loss``,
``binary_cross_entropy``, ``cross_entropy`` with the default ``reduction="mean"``)
in value and in gradient. Also the figure functions of the chapter
"Quantifying loss".
"""

from __future__ import annotations

import torch

from introdl.checks import check_ndim, check_tensor

__all__ = ["mse", "binary_cross_entropy", "logsumexp", "softmax", "cross_entropy",
           "per_example_cross_entropy", "plot_bce", "plot_mse", "loss_along_weight",
           "plot_empirical_loss", "IGNORE_INDEX", "sequence_cross_entropy",
           "sequence_accuracy"]

#: Target value that sequence losses and metrics skip (PyTorch's default too).
IGNORE_INDEX = -100


def _check_same_shape(name_a, a, name_b, b) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() == 0:
        raise ValueError(f"{name_a} is empty: the mean of no losses is undefined")


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error ``mean((y_hat - y)**2)`` over all entries.

    Args:
        y_hat: predictions, any shape ``(n, ...)``; y: targets, the same shape.
    Returns:
        A 0-d tensor.
    Raises:
        ValueError: if the shapes differ or the tensors are empty.
    """
    check_tensor("y_hat", y_hat, floating=True)
    check_tensor("y", y, floating=True)
    _check_same_shape("y_hat", y_hat, "y", y)
    return ((y_hat - y) ** 2).mean()


def _check_unit_interval(name: str, value: torch.Tensor) -> None:
    bad = (value < 0) | (value > 1) | value.isnan()
    if bad.any():
        raise ValueError(f"{name} must lie in [0, 1], got {value[bad][0].item():g} "
                         f"(one of {int(bad.sum())} such entries)")


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy ``mean(-(y log p + (1 - y) log(1 - p)))``.

    Like PyTorch, each logarithm is clamped at -100, so ``p`` of exactly 0 or
    1 gives a large but finite loss instead of infinity. (There the gradient
    is that of the clamped formula; PyTorch's backward uses
    ``(p - y) / max(p (1 - p), 1e-12)`` instead. Inside ``(0, 1)`` they agree.)

    Args:
        p: predicted probabilities of class 1, any shape, in ``[0, 1]``.
        y: labels (0 or 1, or soft labels in ``[0, 1]``), the same shape.
    Returns:
        A 0-d tensor.
    Raises:
        ValueError: if the shapes differ, or ``p`` or ``y`` leave ``[0, 1]``.
    """
    check_tensor("p", p, floating=True)
    check_tensor("y", y, floating=True)
    _check_same_shape("p", p, "y", y)
    _check_unit_interval("p", p)
    _check_unit_interval("y", y)
    log_p = _clamped_log(p)  # log p, at least -100
    log_1mp = _clamped_log(1 - p)  # log(1 - p), at least -100
    return -(y * log_p + (1 - y) * log_1mp).mean()


def _clamped_log(p: torch.Tensor) -> torch.Tensor:
    """``max(log p, -100)``, with a zero (not NaN) gradient where ``p == 0``."""
    positive = p > 0
    safe = torch.where(positive, p, torch.ones_like(p))  # keeps log's gradient finite
    return torch.where(positive, torch.log(safe), -100.0).clamp(min=-100)


def logsumexp(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log(sum(exp(z)))`` along ``dim``, without overflow.

    Subtracting the maximum ``m`` first gives ``m + log(sum(exp(z - m)))``:
    every exponent is at most 0, so nothing overflows, and the largest term
    is exactly 1, so the logarithm never sees 0.
    """
    m = z.amax(dim=dim, keepdim=True).detach()  # (..., 1): a constant shift
    return (m + torch.log(torch.exp(z - m).sum(dim=dim, keepdim=True))).squeeze(dim)


def softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(z_c) / sum_k exp(z_k)`` along ``dim``: non-negative, sums to 1."""
    check_tensor("logits", logits, floating=True)
    return torch.exp(logits - logsumexp(logits, dim).unsqueeze(dim))


def per_example_cross_entropy(logits: torch.Tensor,
                              target: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy of each example, ``logsumexp(z) - z[target]``.

    Args:
        logits: ``(N, C)`` scores, one row per example.
        target: ``(N,)`` class indices in ``0..C-1`` (an integer dtype).
    Returns:
        ``(N,)`` losses, each ``-log softmax(z)[target]``.
    Raises:
        ValueError: for wrong shapes, an empty batch or indices out of range.
        TypeError: for a non-floating ``logits`` or non-integer ``target``.
    """
    check_tensor("logits", logits, floating=True)
    check_tensor("target", target)
    check_ndim("logits", logits, (2,))
    if target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer class indices, got {target.dtype}")
    if target.shape != logits.shape[:1] or len(target) == 0:
        raise ValueError(f"target must have shape ({logits.shape[0]},) to match "
                         f"logits {tuple(logits.shape)}, and not be empty; got "
                         f"{tuple(target.shape)}")
    bad = (target < 0) | (target >= logits.shape[1])
    if bad.any():
        raise ValueError(f"target must hold class indices in [0, "
                         f"{logits.shape[1] - 1}], got {target[bad][0].item()}")
    picked = logits.gather(1, target[:, None]).squeeze(1)  # (N,) z[target]
    return logsumexp(logits, dim=1) - picked  # (N,)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy, the mean over the batch of
    ``-log softmax(logits)[target]``: :func:`per_example_cross_entropy` averaged.

    Args:
        logits: ``(N, C)`` unnormalised scores; target: ``(N,)`` class indices.
    Returns:
        A 0-d tensor. Stable for logits of any magnitude (log-sum-exp).
    Raises:
        ValueError, TypeError: as :func:`per_example_cross_entropy`.
    """
    return per_example_cross_entropy(logits, target).mean()


def plot_bce(ax=None):
    """Figure: binary cross-entropy of one prediction ``p`` for label 1 and
    label 0 (left); for label 1, cross-entropy beside the squared error
    ``(1 - p)**2`` (right). Returns the ``Figure``."""
    from introdl.figures.style import new_figure

    p = torch.linspace(0.002, 0.998, 499, dtype=torch.float64)
    fig, (ax_l, ax_r) = new_figure(ncols=2, height=2.9)
    ax_l.plot(p, -torch.log(p), label="label $y = 1$: $-\\log p$")
    ax_l.plot(p, -torch.log(1 - p), label="label $y = 0$: $-\\log(1 - p)$")
    ax_l.set(xlabel="predicted probability of class 1, $p$", ylabel="loss",
             ylim=(0, 5), title="cross-entropy for each label")
    ax_l.legend(loc="upper center")
    ax_r.plot(p, -torch.log(p), label="cross-entropy")
    ax_r.plot(p, (1 - p) ** 2, label="squared error", color="C2", linestyle=":")
    ax_r.set(xlabel="predicted probability of class 1, $p$", ylabel="loss",
             ylim=(0, 5), title="label $y = 1$: two losses")
    ax_r.legend(loc="upper right")
    return fig


def plot_mse(x: torch.Tensor, y: torch.Tensor, slope: float, ax=None):
    """Figure: a line ``y_hat = slope * x`` through data with its errors drawn
    (left) and the mean squared error as a function of the slope (right).

    Args:
        x, y: ``(n,)`` inputs and real-valued targets; slope: the line shown.
    Returns:
        The ``Figure``.
    """
    from introdl.figures.style import PALETTE, new_figure

    fig, (ax_l, ax_r) = new_figure(ncols=2, height=2.9)
    y_hat = slope * x  # (n,)
    ax_l.vlines(x, y, y_hat, color=PALETTE[1], linewidth=1.2, label="errors")
    ax_l.scatter(x, y, s=18, color=PALETTE[0], zorder=3, label="data $(x, y)$")
    grid = torch.linspace(float(x.min()), float(x.max()), 2)
    ax_l.plot(grid, slope * grid, color="black",
              label=rf"$\hat y = w x$, $w = {slope:g}$")
    ax_l.set(xlabel="input $x$", ylabel="target $y$", title="prediction and errors")
    ax_l.legend(loc="upper left")
    slopes = torch.linspace(slope - 2, slope + 2, 201, dtype=torch.float64)
    losses = ((slopes[:, None] * x.double() - y.double()) ** 2).mean(1)  # (201,)
    ax_r.plot(slopes, losses, color="black")
    ax_r.scatter([slope], [mse(y_hat.double(), y.double())], color=PALETTE[1],
                 zorder=3, label=f"$w = {slope:g}$, the line on the left")
    ax_r.set(xlabel="slope $w$", ylabel="mean squared error $J(w)$",
             title="the loss as a function of $w$")
    ax_r.legend(loc="upper right")
    return fig


@torch.no_grad()
def loss_along_weight(model: torch.nn.Module, param: torch.nn.Parameter,
                      index: tuple[int, ...], data, offsets: torch.Tensor,
                      loss_fn=cross_entropy) -> torch.Tensor:
    """Empirical loss of ``model`` on ``data = (X, y)`` as one weight moves.

    Sets ``param[index]`` to its current value plus each entry of ``offsets``,
    evaluates ``loss_fn(model(X), y)``, and restores the weight afterwards.

    Returns:
        ``(len(offsets),)`` losses.
    """
    X, y = data
    original = param[index].item()
    losses = []
    try:
        for delta in offsets.tolist():
            param[index] = original + delta
            losses.append(loss_fn(model(X), y).item())
    finally:
        param[index] = original
    return torch.tensor(losses)


def plot_empirical_loss(per_example: dict[str, torch.Tensor], curves: dict[str, list],
                        ax=None):
    """Figure: every example's loss, sorted, with their mean, the empirical
    loss, as a horizontal line (left); loss curves over training (right).

    Args:
        per_example: name -> ``(n,)`` per-example losses (e.g. before/after).
        curves: name -> empirical loss per epoch.
    Returns:
        The ``Figure``.
    """
    from introdl.figures.style import LINESTYLES, PALETTE, new_figure, plot_curves

    fig, (ax_l, ax_r) = new_figure(ncols=2, height=3.0)
    for k, (name, losses) in enumerate(per_example.items()):
        ranked = losses.detach().sort(descending=True).values  # (n,)
        share = torch.arange(1, len(ranked) + 1) / len(ranked)  # (n,)
        mean = float(ranked.mean())
        ax_l.plot(share, ranked, color=PALETTE[k], linestyle=LINESTYLES[k], label=name)
        ax_l.axhline(mean, color=PALETTE[k], linestyle=LINESTYLES[k], linewidth=1.0)
        ax_l.annotate(f"mean {mean:.2f}", (1.0, mean), xytext=(-2, 3),
                      textcoords="offset points", ha="right", va="bottom",
                      fontsize=8, color=PALETTE[k])
    ax_l.set(xlabel="share of examples, sorted by loss", ylabel="loss of one example",
             yscale="log", title="per-example losses")
    ax_l.legend(loc="lower left")
    plot_curves(curves, ax=ax_r, ylabel="empirical loss $J(W)$",
                title="over training")
    return fig


def _check_logits_targets(logits: torch.Tensor, y: torch.Tensor) -> None:
    check_tensor("logits", logits, floating=True)
    check_tensor("y", y)
    if logits.ndim != 3 or y.shape != logits.shape[:2]:
        raise ValueError(f"logits must be (B, T, C) and y (B, T), got "
                         f"{tuple(logits.shape)} and {tuple(y.shape)}")


def sequence_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over every time step whose target is not
    :data:`IGNORE_INDEX`. ``logits`` ``(B, T, C)``, ``y`` ``(B, T)``."""
    _check_logits_targets(logits, y)
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
        ignore_index=IGNORE_INDEX)  # (B*T, C) against (B*T,)


def sequence_accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Share of labelled time steps whose arg-max equals the target."""
    _check_logits_targets(logits, y)
    mask = y != IGNORE_INDEX  # (B, T)
    return (logits.argmax(-1) == y)[mask].float().mean().item()
