"""Experiments of the chapter "Backpropagation": the example graph of a neuron,
and how the error of finite differences depends on the step."""

from collections.abc import Callable, Iterable

import torch

from introdl.autograd import Value, numerical_gradient
from introdl.checks import check_tensor

__all__ = ["neuron_graph", "finite_difference_errors"]


def neuron_graph(x=(2.0, -1.0), w=(0.4, 0.3), b: float = 0.2, y: float = 1.0) -> Value:
    """The squared error of a tanh neuron with two inputs, as a labelled graph.

    ``L = (tanh(x1 w1 + x2 w2 + b) - y)**2``. Returns ``L``; call
    ``L.backward()`` and :func:`~introdl.figures.backpropagation.draw_graph` to
    see it.
    """
    (x_1, x_2), (w_1, w_2) = x, w
    x1, x2 = Value(x_1, label="x_1"), Value(x_2, label="x_2")
    w1, w2 = Value(w_1, label="w_1"), Value(w_2, label="w_2")
    bias, target = Value(b, label="b"), Value(y, label="y")
    p1, p2 = x1 * w1, x2 * w2
    s = p1 + p2
    z = s + bias
    a = z.tanh()
    d = a - target
    L = d ** 2
    for v, name in ((s, "s"), (z, "z"), (a, r"\hat{y}"), (d, "e"), (L, "L")):
        v.label = name
    p1.label, p2.label = "p_1", "p_2"
    return L


def finite_difference_errors(f: Callable[[torch.Tensor], torch.Tensor],
                             x: torch.Tensor, exact: torch.Tensor,
                             hs: Iterable[float]) -> torch.Tensor:
    """Largest error of :func:`~introdl.autograd.numerical_gradient` against
    ``exact`` (shaped like ``x``) for each step ``h`` in ``hs``. Returns a
    float64 tensor ``(len(hs),)``."""
    check_tensor("exact", exact, floating=True)
    if exact.shape != x.shape:
        raise ValueError(f"exact must have x's shape {tuple(x.shape)}, got "
                         f"{tuple(exact.shape)}")
    errors = [(numerical_gradient(f, x, float(h)) - exact).abs().max().item()
              for h in hs]
    return torch.tensor(errors, dtype=torch.float64)
