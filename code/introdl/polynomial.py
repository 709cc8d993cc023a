"""Polynomial regression by least squares, on data small enough to see (chapter
"Overfitting").

Noisy samples of ``sin(pi x)`` (:func:`noisy_sine`) are fitted by polynomials
whose degree is the model's capacity: :func:`polynomial_features` turns ``x``
into the powers ``1, x, ..., x^d``, and :func:`fit_polynomial` solves the
least-squares problem exactly, optionally with an L2 penalty (ridge
regression, i.e. weight decay).
"""

import math

import torch

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor

__all__ = ["true_function", "noisy_sine", "polynomial_features", "fit_polynomial",
           "predict_polynomial"]


def true_function(x: torch.Tensor) -> torch.Tensor:
    """The signal behind the noisy data: ``sin(pi x)``, any shape."""
    return torch.sin(math.pi * x)


def noisy_sine(n: int, noise: float = 0.3, *, grid: bool = False,
               seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` samples ``y = sin(pi x) + noise * eps``, ``eps ~ N(0, 1)``, with ``x``
    evenly spaced on ``[-1, 1]`` (``grid``) or drawn uniformly from ``seed``.
    Returns ``(x, y)``, both ``(n,)`` float64."""
    check_positive_int("n", n)
    check_number("noise", noise, low=0)
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    if grid:
        x = torch.linspace(-1, 1, n, dtype=torch.float64)  # (n,)
    else:
        x = 2 * torch.rand(n, generator=g, dtype=torch.float64) - 1  # (n,)
    eps = torch.randn(n, generator=g, dtype=torch.float64)  # (n,)
    y = true_function(x) + noise * eps
    return x, y


def polynomial_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """The powers ``x^0, x^1, ..., x^degree`` of ``x`` ``(n,)`` as the columns of
    a matrix ``(n, degree + 1)``."""
    check_ndim("x", check_tensor("x", x, floating=True), (1,))
    check_positive_int("degree", degree, allow_zero=True)
    powers = torch.arange(degree + 1, dtype=x.dtype, device=x.device)  # (degree + 1,)
    phi = x[:, None] ** powers  # (n, degree + 1)
    return phi


def fit_polynomial(x: torch.Tensor, y: torch.Tensor, degree: int,
                   l2: float = 0.0) -> torch.Tensor:
    """The least-squares polynomial of ``degree`` through ``(x, y)``, both ``(n,)``.

    Minimizes ``mean((Phi w - y)^2) + l2 * sum(w[1:]^2)``, where ``Phi`` holds
    the powers of ``x``; ``l2 > 0`` is ridge regression and leaves the constant
    ``w[0]`` free. Returns ``w`` ``(degree + 1,)``, lowest power first. Raises
    ``ValueError`` for NaN or infinite data (least squares has no answer).
    """
    phi = polynomial_features(x, degree)  # (n, degree + 1)
    check_tensor("y", y)
    check_number("l2", l2, low=0)
    if (y.shape != x.shape or y.dtype != x.dtype
            or not torch.stack([x, y]).isfinite().all()):
        raise ValueError(f"y must have the shape and dtype of x {tuple(x.shape)} "
                         f"{x.dtype}, both finite; got {tuple(y.shape)} {y.dtype}")
    if l2 > 0:  # extra rows sqrt(n * l2) * I make lstsq add the penalty
        eye = torch.eye(degree + 1, dtype=x.dtype, device=x.device)[1:]  # (d, d + 1)
        penalty = math.sqrt(len(x) * l2) * eye
        phi = torch.cat([phi, penalty])  # (n + d, d + 1)
        y = torch.cat([y, y.new_zeros(degree)])  # (n + d,)
    return torch.linalg.lstsq(phi, y[:, None]).solution[:, 0]  # (degree + 1,)


def predict_polynomial(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The polynomial with coefficients ``w`` ``(d + 1,)``, lowest power first,
    at the points ``x`` ``(n,)``: shape ``(n,)``, in ``x``'s dtype. An empty ``w``
    (degree -1) raises ``ValueError``."""
    check_ndim("w", check_tensor("w", w, floating=True), (1,))
    degree = len(w) - 1
    phi = polynomial_features(x, degree)  # (n, degree + 1)
    return phi @ w.to(x.dtype)  # (n,)
