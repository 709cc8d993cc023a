"""Polynomial regression by least squares, on data small enough to see (chapter
"Overfitting").

Noisy samples of ``sin(pi x)`` (:func:`noisy_sine`) are fitted by polynomials
whose degree is the model's capacity: :func:`polynomial_features` turns ``x``
into the powers ``1, x, ..., x^d``, and :func:`fit_polynomial` solves the
least-squares problem exactly, optionally with an L2 penalty (ridge
regression, i.e. weight decay). Past the interpolation threshold (more weights
than points) the least-squares problem has many exact solutions;
:func:`min_norm_least_squares` picks the one of smallest norm, here on the
Legendre polynomials of :func:`legendre_features`.
"""

import math

import torch

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor

__all__ = ["true_function", "noisy_sine", "polynomial_features", "fit_polynomial",
           "predict_polynomial", "legendre_features", "min_norm_least_squares"]


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


def legendre_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """The Legendre polynomials ``P_0(x), ..., P_degree(x)`` of ``x`` ``(n,)`` as
    the columns of a matrix ``(n, degree + 1)``; on ``[-1, 1]`` each lies in
    ``[-1, 1]``. They span the same functions as the powers of ``x``."""
    check_ndim("x", check_tensor("x", x, floating=True), (1,))
    check_positive_int("degree", degree, allow_zero=True)
    P = [torch.ones_like(x), x]  # P_0, P_1
    for k in range(1, degree):  # (k + 1) P_{k+1} = (2k + 1) x P_k - k P_{k-1}
        P.append(((2 * k + 1) * x * P[k] - k * P[k - 1]) / (k + 1))
    return torch.stack(P[:degree + 1], dim=1)  # (n, degree + 1)


def min_norm_least_squares(phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The weights ``w`` ``(p,)`` of smallest norm among those that minimize
    ``||phi w - y||^2``, for ``phi`` ``(n, p)`` and ``y`` ``(n,)``: the
    pseudo-inverse solution, ``torch.linalg.pinv(phi) @ y``. With ``p >= n``
    and independent rows it fits ``y`` exactly. Raises ``ValueError`` for
    mismatched or empty shapes."""
    check_ndim("phi", check_tensor("phi", phi, floating=True), (2,))
    if check_tensor("y", y).shape != phi.shape[:1] or phi.numel() == 0:
        raise ValueError(f"y must be (n,) for phi (n, p), n, p > 0; got "
                         f"{tuple(y.shape)} and {tuple(phi.shape)}")
    U, S, Vh = torch.linalg.svd(phi, full_matrices=False)  # phi = U diag(S) Vh
    tol = S.max() * max(phi.shape) * torch.finfo(phi.dtype).eps  # pinv's default
    keep = S > tol  # the r directions that phi does not flatten to 0
    coef = (U[:, keep].T @ y.to(phi.dtype)) / S[keep]  # (r,)
    return Vh[keep].T @ coef  # (p,): a combination of the rows of phi
