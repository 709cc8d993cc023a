"""Experiments of the chapter "Quantifying loss"."""

from collections.abc import Callable

import torch
from torch import nn

from introdl.checks import check_ndim, check_tensor
from introdl.losses import cross_entropy

__all__ = ["loss_along_weight"]


@torch.no_grad()
def loss_along_weight(model: nn.Module, param: nn.Parameter, index: tuple[int, ...],
                      data, offsets: torch.Tensor,
                      loss_fn: Callable = cross_entropy) -> torch.Tensor:
    """Empirical loss of ``model`` on ``data = (X, y)`` as one weight moves.

    Sets ``param[index]`` to its current value plus each entry of ``offsets``
    ``(k,)``, evaluates ``loss_fn(model(X), y)``, and restores the weight
    afterwards, even if the model raises.

    Returns:
        ``(k,)`` losses, float32 like the book's models.
    Raises:
        ValueError: if ``param`` is not a parameter of ``model`` (moving it would
            change nothing) or ``index`` does not pick one entry of it.
    """
    check_ndim("offsets", check_tensor("offsets", offsets, floating=True), (1,))
    if not any(param is p for p in model.parameters()):
        raise ValueError("param must be one of model.parameters()")
    try:
        original = param[index].item()
    except (IndexError, TypeError, RuntimeError) as error:
        raise ValueError(f"index must pick one entry of param {tuple(param.shape)}, "
                         f"got {index!r}") from error
    X, y = data
    losses = []
    try:
        for delta in offsets.tolist():
            param[index] = original + delta
            losses.append(loss_fn(model(X), y).item())
    finally:
        param[index] = original
    return torch.tensor(losses)
