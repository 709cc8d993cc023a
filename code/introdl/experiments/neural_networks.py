"""Experiments of the chapter "From perceptrons to neural networks": two
interleaved spirals, and networks of several depths and widths trained on them."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.layers import dense_network
from introdl.losses import cross_entropy
from introdl.training import History, accuracy, fit, parameter_count

__all__ = ["spiral_data", "DepthWidthRun", "depth_width_demo"]


def spiral_data(n: int = 300, turns: float = 1.0, noise: float = 0.08,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved spirals in the plane, one per class.

    Each point lies at angle ``t`` and radius proportional to ``t``, with
    ``t`` up to ``turns`` full turns; class 1 is class 0 rotated by 180 degrees.
    No straight line separates them.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)``
        with class indices 0 or 1 (int64).
    """
    check_positive_int("n", n)
    check_number("turns", turns, low=0, low_open=True)
    check_number("noise", noise, low=0)
    check_positive_int("seed", seed, allow_zero=True)
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2  # (n,) alternating classes
    t = torch.rand(n, generator=g) * turns * 2 * math.pi + 0.5  # (n,) angles
    r = t / (turns * 2 * math.pi + 0.5)  # (n,) radius in (0, 1]
    angle = t + math.pi * y  # class 1 is rotated by pi
    X = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1)  # (n, 2)
    return X + noise * torch.randn(n, 2, generator=g), y


@dataclass
class DepthWidthRun:
    """One network of :func:`depth_width_demo`: the trained ``model``, its
    training ``history``, final training ``accuracy`` and ``num_params``."""

    model: nn.Sequential
    history: History
    accuracy: float
    num_params: int


def depth_width_demo(hidden: Mapping[str, Sequence[int]], X: torch.Tensor,
                     y: torch.Tensor, num_epochs: int = 400, lr: float = 0.02,
                     seed: int = 0) -> dict[str, DepthWidthRun]:
    """Train one :func:`~introdl.layers.dense_network` per entry of ``hidden``.

    Args:
        hidden: name -> hidden sizes, e.g. ``{"no hidden layer": [],
            "1 hidden layer of 16": [16]}``; each network is
            ``[d, *hidden, 2]`` with ReLU and outputs two logits.
        X: ``(n, d)`` points; y: ``(n,)`` class indices 0 or 1.
        num_epochs, lr: full-batch steps of Adam and its learning rate.
    Returns:
        name -> :class:`DepthWidthRun`, in the order of ``hidden``.
    """
    check_tensor("X", X, floating=True)
    check_positive_int("num_epochs", num_epochs)
    results = {}
    for name, sizes in hidden.items():
        gen = torch.Generator().manual_seed(seed)
        model = dense_network([X.shape[1], *sizes, 2], generator=gen)
        history = fit(model, (X, y), loss_fn=cross_entropy, metric=accuracy,
                      optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                      num_epochs=num_epochs, generator=gen, progress=False)
        results[name] = DepthWidthRun(model, history, history.train_metric[-1],
                                      parameter_count(model))
    return results
