"""Loss functions written from scratch, each the mean over a batch.

Every loss equals its ``torch.nn.functional`` counterpart (``mse_loss``,
``binary_cross_entropy``, ``cross_entropy`` with the default ``reduction="mean"``)
in value and in gradient. Unlike PyTorch, which returns NaN for the mean of no
losses, an empty batch raises ``ValueError``: it is almost always a bug.
"""

import torch
import torch.nn.functional as F

from introdl.checks import check_ndim, check_same_shape, check_tensor

__all__ = ["mse", "binary_cross_entropy", "logsumexp", "softmax", "cross_entropy",
           "per_example_cross_entropy", "check_class_indices", "IGNORE_INDEX",
           "check_sequence_targets",
           "sequence_cross_entropy", "sequence_accuracy"]

#: Target value that sequence losses and metrics skip (PyTorch's default too).
IGNORE_INDEX = -100


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error ``mean((y_hat - y)**2)`` over all entries.

    ``y_hat``, ``y``: floating tensors of the same, non-empty shape. Returns a
    0-d tensor; raises ``ValueError`` for other shapes.
    """
    check_same_shape("y_hat", y_hat, "y", y)
    errors = y_hat - y  # (...) one error per entry
    return (errors ** 2).mean()  # the mean of the squared errors


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy ``-(y log p + (1 - y) log(1 - p))``.

    ``p``: probabilities of class 1, ``y``: labels (0, 1 or soft), both in
    ``[0, 1]`` with the same, non-empty shape; else ``ValueError``. As in PyTorch
    each log is clamped at -100 (PyTorch's gradient differs at exactly 0 and 1).
    """
    check_same_shape("p", p, "y", y)
    for name, v in (("p", p), ("y", y)):
        if not ((v >= 0) & (v <= 1)).all():  # NaN fails too
            raise ValueError(f"{name} must be in [0, 1], got {v.min():g}..{v.max():g}")
    log_p = torch.where(p > 0, p, 1.0).log().where(p > 0, -100.0)  # log 0 -> -100
    log_1mp = torch.where(p < 1, 1 - p, 1.0).log().where(p < 1, -100.0)  # no NaN grad
    log_p, log_1mp = log_p.clamp(min=-100), log_1mp.clamp(min=-100)  # as PyTorch
    losses = -(y * log_p + (1 - y) * log_1mp)  # (...) one loss per prediction
    return losses.mean()


def logsumexp(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log(sum(exp(z)))`` along ``dim``, without overflow.

    ``z``: floating, any shape; ``dim`` must pick a non-empty dimension (else
    ``ValueError``; PyTorch returns -inf for an empty one). Returns ``z``'s shape
    without ``dim``.
    """
    check_tensor("z", z, floating=True)
    if not -max(z.ndim, 1) <= dim < max(z.ndim, 1) or z.ndim and z.shape[dim] == 0:
        raise ValueError(f"dim={dim} must index a non-empty axis of z {tuple(z.shape)}")
    m = z.amax(dim=dim, keepdim=True).detach()  # (..., 1): a constant shift
    m = torch.where(m.isinf(), 0.0, m)  # shift by 0 where inf - inf would give NaN
    total = torch.exp(z - m).sum(dim=dim, keepdim=True)  # every exponent <= 0
    return (m + torch.log(total)).squeeze(dim)


def softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(z_c) / sum_k exp(z_k)`` along ``dim``: non-negative, sums to 1.

    Same shape as ``logits`` (a 0-d tensor gives 1, as ``torch.softmax``).
    Errors as :func:`logsumexp`.
    """
    check_tensor("logits", logits, floating=True)
    n = max(logits.ndim, 1)  # a 0-d tensor has one entry along dim 0 or -1
    if not -n <= dim < n or logits.ndim and logits.shape[dim] == 0:
        raise ValueError(f"dim={dim} must index a non-empty axis of logits "
                         f"{tuple(logits.shape)}")
    e = torch.exp(logits - logits.amax(dim=dim, keepdim=True).detach())  # <= 1
    return e / e.sum(dim=dim, keepdim=True)


def check_class_indices(name: str, target, n: int, num_classes: int) -> None:
    """Raise unless ``target`` is an int64 tensor of ``n`` class indices in
    ``0..num_classes-1``: ``TypeError`` for another type, else ``ValueError``."""
    if getattr(target, "dtype", None) != torch.int64:
        raise TypeError(f"{name} must hold integer class indices (an int64 tensor), "
                        f"got {getattr(target, 'dtype', type(target).__name__)}")
    if target.shape != (n,) or not ((target >= 0) & (target < num_classes)).all():
        raise ValueError(f"{name} must hold {n} class indices in [0, {num_classes - 1}]"
                         f", got {tuple(target.shape)}: {target.unique()[:9]}")


def per_example_cross_entropy(logits: torch.Tensor,
                              target: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy of each example, ``logsumexp(z) - z[target]``.

    ``logits``: ``(n, C)`` scores; ``target``: ``(n,)`` int64 class indices in
    ``0..C-1``. Returns ``(n,)`` losses. Raises ``TypeError`` for other dtypes and
    ``ValueError`` for other shapes or indices out of range.
    """
    check_ndim("logits", check_tensor("logits", logits, floating=True), (2,))
    check_class_indices("target", target, *logits.shape)
    lse = logsumexp(logits, dim=1)  # (n,) log of the softmax's denominator
    picked = logits.gather(1, target[:, None]).squeeze(1)  # (n,) z[target]
    return lse - picked  # (n,) -log softmax(z)[target]


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax cross-entropy, the mean over the batch of
    ``-log softmax(logits)[target]``: :func:`per_example_cross_entropy` averaged.

    ``logits``: ``(n, C)``; ``target``: ``(n,)`` class indices. Returns a 0-d
    tensor, stable for logits of any magnitude. Errors as
    :func:`per_example_cross_entropy`, and ``ValueError`` for an empty batch.
    (Where another class has an infinite logit, the loss is inf; PyTorch gives NaN.)
    """
    losses = per_example_cross_entropy(logits, target)  # (n,)
    if not len(losses):
        raise ValueError("logits and target are empty: the mean of no losses is "
                         "undefined")
    return losses.mean()


def check_sequence_targets(logits: torch.Tensor, y: torch.Tensor,
                           ignore_index: int = -100) -> None:
    """Raise unless ``logits`` is a float ``(B, T, C)`` tensor and ``y`` an int64
    ``(B, T)`` tensor of class indices or ``ignore_index``."""
    check_tensor("logits", logits, floating=True)
    check_tensor("y", y)
    if y.dtype != torch.int64:
        raise TypeError(f"y must hold int64 class indices, got {y.dtype}")
    if logits.ndim != 3 or y.shape != logits.shape[:2]:
        raise ValueError(f"logits must be (B, T, C) and y (B, T), got "
                         f"{tuple(logits.shape)} and {tuple(y.shape)}")
    bad = (y != ignore_index) & ((y < 0) | (y >= logits.shape[2]))
    if bad.any():
        raise ValueError(f"y must hold class indices in [0, {logits.shape[2] - 1}] "
                         f"or {ignore_index}, got {y[bad][0].item()}")


def sequence_cross_entropy(logits: torch.Tensor, y: torch.Tensor,
                           ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy over every time step whose target is not
    ``ignore_index`` (:data:`IGNORE_INDEX`, as in PyTorch). ``logits`` ``(B, T, C)``,
    ``y`` ``(B, T)`` int64. As in PyTorch, NaN if no step is labelled."""
    check_sequence_targets(logits, y, ignore_index)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                           ignore_index=ignore_index)  # (B*T, C) against (B*T,)


def sequence_accuracy(logits: torch.Tensor, y: torch.Tensor,
                      ignore_index: int = -100) -> float:
    """Share of labelled time steps whose arg-max equals the target (NaN if no
    step is labelled). Arguments and errors as :func:`sequence_cross_entropy`."""
    check_sequence_targets(logits, y, ignore_index)
    mask = y != ignore_index  # (B, T)
    return (logits.argmax(-1) == y)[mask].float().mean().item()
