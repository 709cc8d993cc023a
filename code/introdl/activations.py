"""Activation functions and their derivatives, written from scratch.

Each function works elementwise on a tensor of any shape and returns a tensor
of the same shape and dtype. The ``*_grad`` functions return the derivative
with respect to the input, so ``sigmoid_grad(x)`` equals what
``torch.autograd.grad(torch.sigmoid(x).sum(), x)`` gives.
"""

from __future__ import annotations

import torch

from introdl.checks import check_tensor

__all__ = ["sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad",
           "plot_activations"]


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for large ``|x|``.

    ``exp`` is only ever taken of ``-|x|``, so it never overflows: for
    ``x >= 0`` we use ``1 / (1 + e)`` and for ``x < 0`` the equal form
    ``e / (1 + e)``, with ``e = exp(-|x|)``.

    Args:
        x: floating-point tensor of any shape.
    Returns:
        Tensor of the same shape with values in ``[0, 1]``.
    """
    check_tensor("x", x, floating=True)
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`sigmoid`: ``s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)``, stable for large ``|x|``.

    Written as ``sign(x) * (1 - e) / (1 + e)`` with ``e = exp(-2|x|)``;
    ``1 - e`` is computed by ``-expm1(-2|x|)`` to stay accurate near 0.

    Args:
        x: floating-point tensor of any shape.
    Returns:
        Tensor of the same shape with values in ``[-1, 1]``.
    """
    check_tensor("x", x, floating=True)
    a = -2 * x.abs()
    return torch.sign(x) * -torch.expm1(a) / (1 + torch.exp(a))


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`tanh`: ``1 - tanh(x)**2``."""
    return 1 - tanh(x) ** 2


def relu(x: torch.Tensor) -> torch.Tensor:
    """Rectified linear unit ``max(0, x)``."""
    check_tensor("x", x, floating=True)
    return torch.where(x > 0, x, torch.zeros_like(x))


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`relu`: 1 where ``x > 0``, else 0 (0 at ``x == 0``,
    the value PyTorch's autograd uses)."""
    check_tensor("x", x, floating=True)
    return (x > 0).to(x.dtype)


def plot_activations(lo: float = -5.0, hi: float = 5.0, num: int = 401):
    """Figure: sigmoid, tanh and ReLU (left) and their derivatives (right)."""
    from introdl.figures.style import new_figure

    x = torch.linspace(lo, hi, num, dtype=torch.float64)
    fig, (ax_f, ax_d) = new_figure(ncols=2, height=3.0, sharex=True)
    for name, f, df in (("sigmoid", sigmoid, sigmoid_grad), ("tanh", tanh, tanh_grad),
                        ("ReLU", relu, relu_grad)):
        ax_f.plot(x, f(x), label=name)
        ax_d.plot(x, df(x), label=name)
    ax_f.set(xlabel="$z$", ylabel="$g(z)$", title="activation", ylim=(-1.2, 2.2))
    ax_d.set(xlabel="$z$", ylabel="$g'(z)$", title="derivative", ylim=(-0.1, 1.2))
    ax_f.legend(loc="upper left")
    return fig
