"""Experiments of the chapter "Backpropagation": the example graph of a neuron,
how the error of finite differences depends on the step, and where to start:
a symmetric start that never breaks its symmetry, and the scale of the signal
through a deep network for several initialisation rules."""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch

from introdl.autograd import Value, numerical_gradient, two_layer_backprop
from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.init import (
    calculate_gain,
    kaiming_normal_,
    kaiming_uniform_,
    xavier_normal_,
)

__all__ = ["neuron_graph", "finite_difference_errors", "train_two_layer",
           "DepthSignal", "signal_through_depth", "init_rules", "init_comparison"]


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


def train_two_layer(X: torch.Tensor, y: torch.Tensor,
                    params: Mapping[str, torch.Tensor], lr: float,
                    num_steps: int) -> tuple[dict, list[float]]:
    """Full-batch gradient descent on the network of
    :func:`~introdl.autograd.two_layer_backprop`, with its hand-derived gradients.

    ``params``: ``"W1", "b1", "W2", "b2"`` (left unchanged). Returns the trained
    parameters (new tensors) and the loss before each step, ``num_steps`` values.
    """
    check_number("lr", lr, low=0)
    check_positive_int("num_steps", num_steps)
    params = {k: params[k] for k in ("W1", "b1", "W2", "b2")}
    losses = []
    for _ in range(num_steps):
        loss, grads = two_layer_backprop(X, y, **params)
        params = {k: p - lr * grads[k] for k, p in params.items()}
        losses.append(loss.item())
    return params, losses


@dataclass
class DepthSignal:
    """The scale of the signal in each layer of a deep network: ``forward_std[k]``
    is the standard deviation of layer ``k + 1``'s outputs, ``backward_std[k]``
    that of the gradient of the loss with respect to them."""

    forward_std: list[float]
    backward_std: list[float]


def signal_through_depth(activation: str,
                         init: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
                         *, depth: int = 20, width: int = 128, batch_size: int = 256,
                         seed: int = 0) -> DepthSignal:
    """Send random inputs through ``depth`` layers ``h = g(h W^T)`` of ``width``
    units (no biases), ``g`` the ``activation`` (``"tanh"`` or ``"relu"``), each
    weight filled by ``init(weight, generator)``; then send back the gradient of
    ``J = sum(h_depth * u)`` for a random ``u``, so that the top layer's
    gradient has standard deviation 1. Returns a :class:`DepthSignal`."""
    g = {"tanh": torch.tanh, "relu": torch.relu}.get(activation)
    if g is None:
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    check_positive_int("depth", depth)
    gen = torch.Generator().manual_seed(seed)
    weights = [init(torch.empty(width, width), gen) for _ in range(depth)]  # (n, n)
    h = torch.randn(batch_size, width, generator=gen).requires_grad_()  # (B, n)
    outputs = []
    for W in weights:
        h = g(h @ W.T)  # (B, n)
        outputs.append(h)
    u = torch.randn(batch_size, width, generator=gen)  # dJ/dh at the top, std 1
    grads = torch.autograd.grad((h * u).sum(), outputs)  # dJ/dh for every layer
    return DepthSignal([h.std().item() for h in outputs],
                       [d.std().item() for d in grads])


def init_rules(activation: str) -> dict[str, Callable]:
    """Five ways to fill a layer's weights before a ``activation`` (``"tanh"`` or
    ``"relu"``), each ``init(weight, generator)``: std ``0.5/sqrt(n)``,
    ``nn.Linear``'s default, Xavier, He's rule with the gain for ``activation``
    (sqrt(2) for ReLU, PyTorch's 5/3 for tanh) and std ``3/sqrt(n)``."""
    gain = calculate_gain(activation)
    rule = "He, with the activation's gain"
    return {
        "too small, 0.5/\u221an": lambda W, g: kaiming_normal_(W, 0.5, generator=g),
        "nn.Linear's default": lambda W, g: kaiming_uniform_(W, math.sqrt(1 / 3),
                                                             generator=g),
        "Xavier": lambda W, g: xavier_normal_(W, generator=g),
        rule: lambda W, g: kaiming_normal_(W, gain, generator=g),
        "too large, 3/\u221an": lambda W, g: kaiming_normal_(W, 3.0, generator=g),
    }


def init_comparison(activations: Iterable[str] = ("tanh", "relu"), *, depth: int = 20,
                    width: int = 128, batch_size: int = 256,
                    seed: int = 0) -> dict[str, dict[str, DepthSignal]]:
    """:func:`signal_through_depth` for every rule of :func:`init_rules` and each
    activation. Returns activation -> rule name -> :class:`DepthSignal`."""
    return {act: {name: signal_through_depth(act, init, depth=depth, width=width,
                                             batch_size=batch_size, seed=seed)
                  for name, init in init_rules(act).items()}
            for act in activations}
