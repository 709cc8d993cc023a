"""The perceptron: a single neuron, ``y_hat = g(w0 + X @ w)``.

:func:`perceptron` is the forward pass, :class:`Perceptron` a trainable module,
:func:`linear_stack_is_linear` shows why depth needs a non-linearity, and
:func:`linearly_separable_data` and :func:`xor_data` are the two toy data sets
the book trains perceptrons on.
"""

from collections.abc import Callable, Iterable

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_scalar, check_tensor

__all__ = ["perceptron", "linear_stack_is_linear", "Perceptron",
           "linearly_separable_data", "xor_data"]


def perceptron(
    X: torch.Tensor,
    w: torch.Tensor,
    w0: float | torch.Tensor,
    g: Callable[[torch.Tensor], torch.Tensor] = torch.sigmoid,
) -> torch.Tensor:
    """One neuron, ``g(w0 + X @ w)``: dot product, add bias, apply non-linearity.

    ``X``: ``(n, d)`` batch or ``(d,)`` input; ``w``: ``(d,)``; ``w0``: a number or
    0-d tensor; ``g`` defaults to ``torch.sigmoid``. Returns ``(n,)`` or ``()``.
    Raises ``TypeError`` for non-tensors, ``ValueError`` for other shapes.
    """
    check_tensor("w", w, floating=True, ndim=(1,))
    check_tensor("X", X, ndim=(1, 2), last_dim=len(w), dtype=w.dtype)
    check_scalar("w0", w0)
    dot = X @ w  # (n,) or (): dot product
    z = w0 + dot  # add bias
    y_hat = g(z)  # apply non-linearity
    return y_hat


def linear_stack_is_linear(
    weights: Iterable[torch.Tensor], biases: Iterable[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Collapse the affine maps ``x -> W_k x + b_k``, applied in turn, into one.

    ``weights[k]``: ``(d_{k+1}, d_k)``; ``biases[k]``: ``(d_{k+1},)``; any iterables.
    Returns ``(W, b)`` of shapes ``(d_last, d_0)`` and ``(d_last,)``.
    """
    weights, biases = list(weights), list(biases)  # lists, tuples or generators
    if not weights or len(weights) != len(biases):
        raise ValueError(f"weights and biases must be non-empty and of equal "
                         f"length, got {len(weights)} and {len(biases)}")
    W, b = weights[0], biases[0]  # the first map: (d_1, d_0) and (d_1,)
    for k, (Wk, bk) in enumerate(zip(weights, biases)):
        check_tensor(f"weights[{k}]", Wk, ndim=(2,))
        check_tensor(f"biases[{k}]", bk, shape=Wk.shape[:1])
        if k == 0:
            continue  # the first map is (W, b) already
        check_tensor(f"weights[{k}]", Wk, shape=(len(bk), len(W)))  # chains on
        W = Wk @ W  # x -> Wk (W x + b) + bk: the new weight
        b = Wk @ b + bk  # and the new bias
    return W, b


class Perceptron(nn.Module):
    """A trainable perceptron with weights ``w`` ``(d,)`` and bias ``w0`` ``()``.

    ``forward(X)`` returns the logits ``z = w0 + X @ w``, shape ``(n,)``; apply a
    sigmoid for ``y_hat``. (Losses computed from logits are numerically stable.)
    """

    def __init__(self, d: int, generator: torch.Generator | None = None):
        super().__init__()
        check_positive_int("d", d)
        self.w = nn.Parameter(0.1 * torch.randn(d, generator=generator))
        self.w0 = nn.Parameter(torch.zeros(()))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return perceptron(X, self.w, self.w0, g=lambda z: z)  # (n,)


def linearly_separable_data(n: int = 200, seed: int = 0):
    """Two Gaussian blobs that a straight line separates.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)``
        with values 0. or 1.
    Raises:
        TypeError, ValueError: if ``n`` is not an int ``> 0`` or ``seed`` not
            an int ``>= 0``.
    """
    check_positive_int("n", n)
    check_positive_int("seed", seed, allow_zero=True)
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=g) < 0.5).float()  # (n,)
    centres = torch.stack([2 * y - 1, 2 * y - 1], 1) * 0.9  # (n, 2)
    X = centres + 0.55 * torch.randn(n, 2, generator=g)
    return X, y


def xor_data(n: int = 200, noise: float = 0.15, seed: int = 0):
    """Noisy XOR: points around the four corners of a square, labelled 1
    where exactly one coordinate is positive. No line separates the classes.

    Returns:
        ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32), ``y`` of shape ``(n,)``
        with values 0. or 1.
    Raises:
        TypeError, ValueError: if ``n`` is not a positive int, ``noise`` not
            a number ``>= 0`` or ``seed`` not an int ``>= 0``.
    """
    check_positive_int("n", n)
    check_number("noise", noise, low=0)
    check_positive_int("seed", seed, allow_zero=True)
    g = torch.Generator().manual_seed(seed)
    corners = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    idx = torch.randint(0, 4, (n,), generator=g)
    X = corners[idx] + noise * torch.randn(n, 2, generator=g)  # (n, 2)
    y = ((corners[idx, 0] > 0) != (corners[idx, 1] > 0)).float()  # (n,)
    return X, y
