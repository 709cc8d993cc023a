"""Activation functions and their derivatives, written from scratch.

Each function works elementwise on a floating-point tensor of any shape (0-d and
empty included) and returns a tensor of the same shape, dtype and device. The
``*_grad`` functions return the derivative with respect to the input, so
``sigmoid_grad(x)`` equals ``torch.autograd.grad(torch.sigmoid(x).sum(), x)``.
NaN propagates as in PyTorch. A non-tensor or an integer tensor raises
``TypeError``.
"""

import torch

from introdl.checks import check_tensor

__all__ = ["sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad"]


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, values in ``[0, 1]``.

    ``exp`` only ever sees ``-|x|``, so it never overflows.
    """
    check_tensor("x", x, floating=True)
    e = torch.exp(-x.abs())  # in (0, 1]
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))  # equal forms of sigmoid


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`sigmoid`: ``s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent ``(e^x - e^-x) / (e^x + e^-x)``, values in ``[-1, 1]``.

    Written with ``e = exp(-2|x|)``, which never overflows; ``expm1`` keeps
    ``1 - e`` accurate near 0.
    """
    check_tensor("x", x, floating=True)
    a = -2 * x.abs()
    return torch.sign(x) * -torch.expm1(a) / (1 + torch.exp(a))  # sign(x) (1-e)/(1+e)


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`tanh`: ``1 - tanh(x)**2``."""
    return 1 - tanh(x) ** 2


def relu(x: torch.Tensor) -> torch.Tensor:
    """Rectified linear unit ``max(0, x)``: zero for negative inputs, else ``x``."""
    check_tensor("x", x, floating=True)
    zero = torch.zeros_like(x)
    return torch.where(x < 0, zero, x)  # NaN stays NaN, as in torch.relu


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`relu`: 0 where ``x <= 0`` (0 at the kink, as PyTorch's
    autograd uses), else 1 (also at NaN, as PyTorch)."""
    check_tensor("x", x, floating=True)
    return (~(x <= 0)).to(x.dtype)
