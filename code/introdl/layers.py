"""Dense layers and the feed-forward networks built from them, from scratch.

:class:`Dense` uses PyTorch's parameter names and shapes (``weight`` of shape
``(out_features, in_features)``, ``bias`` of shape ``(out_features,)``), so a
``torch.nn.Linear``'s ``state_dict`` loads into it and the other way round.
"""

import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from introdl.activations import relu
from introdl.checks import check_positive_int, check_tensor

__all__ = ["Dense", "dense_network"]


class Dense(nn.Module):
    """A fully connected layer, ``activation(X @ weight.T + bias)``.

    ``weight`` ``(out_features, in_features)`` and ``bias`` ``(out_features,)``
    start uniform in ``[-1/sqrt(in_features), 1/sqrt(in_features)]``, drawn from
    ``generator``, as in ``nn.Linear``; ``activation=None`` applies none.
    ``X``: ``(..., in_features)`` -> ``(..., out_features)``.
    """

    def __init__(self, in_features: int, out_features: int,
                 activation: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 *, generator: torch.Generator | None = None):
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        if activation is not None and not callable(activation):
            raise TypeError(f"activation must be callable or None, got {activation!r}")
        self.activation = activation
        bound = 1 / math.sqrt(in_features)
        weight = torch.rand(out_features, in_features, generator=generator)
        bias = torch.rand(out_features, generator=generator)
        self.weight = nn.Parameter((2 * weight - 1) * bound)  # (m_out, m_in)
        self.bias = nn.Parameter((2 * bias - 1) * bound)  # (m_out,)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_tensor("X", X, last_dim=self.in_features, dtype=self.weight.dtype)
        Z = X @ self.weight.T + self.bias  # (..., m_out)
        return Z if self.activation is None else self.activation(Z)

    def extra_repr(self) -> str:
        name = getattr(self.activation, "__name__", repr(self.activation))
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"activation={name}")


def dense_network(sizes: Iterable[int], activation: Callable = relu, *,
                  generator: torch.Generator | None = None) -> nn.Sequential:
    """A feed-forward network of :class:`Dense` layers.

    ``sizes = [m_0, m_1, ..., m_L]`` gives ``L`` layers, the ``k``-th mapping
    ``m_{k-1}`` features to ``m_k``; ``activation`` follows every layer but the
    last, which outputs raw scores (logits). Raises ``ValueError`` for fewer
    than two sizes.
    """
    sizes = list(sizes)  # a list, a tuple or a generator
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the input and output sizes, "
                         f"got {sizes}")
    last = len(sizes) - 2
    return nn.Sequential(*[
        Dense(m_in, m_out, activation if k < last else None, generator=generator)
        for k, (m_in, m_out) in enumerate(zip(sizes[:-1], sizes[1:]))])
