"""Experiments of the chapter "Overfitting": training and test error as the
capacity (the degree of a polynomial) grows, up to and past the interpolation
threshold (double descent), and as the training set grows, for polynomials and
for a small network on the digits."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from introdl.losses import mse
from introdl.polynomial import (
    fit_polynomial,
    legendre_features,
    min_norm_least_squares,
    noisy_sine,
    predict_polynomial,
)
from introdl.training import accuracy, evaluate, fit

__all__ = ["CapacityCurve", "capacity_curve", "double_descent_curve",
           "PolynomialSizeCurve", "polynomial_size_curve", "DigitsSizeCurve",
           "digits_size_curve"]


@dataclass
class CapacityCurve:
    """Training and test mean squared error of one polynomial per degree."""

    degrees: list[int]
    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)


def capacity_curve(train: tuple[torch.Tensor, torch.Tensor],
                   test: tuple[torch.Tensor, torch.Tensor], degrees: Iterable[int],
                   l2: float = 0.0) -> CapacityCurve:
    """Fit the least-squares polynomial of each degree to ``train`` and measure
    it on ``train`` and ``test``, pairs ``(x, y)`` of ``(n,)`` tensors."""
    curve = CapacityCurve(list(degrees))
    for degree in curve.degrees:
        w = fit_polynomial(*train, degree, l2)  # (degree + 1,)
        curve.train_mse.append(mse(predict_polynomial(w, train[0]), train[1]).item())
        curve.test_mse.append(mse(predict_polynomial(w, test[0]), test[1]).item())
    return curve


def double_descent_curve(train: tuple[torch.Tensor, torch.Tensor],
                         test: tuple[torch.Tensor, torch.Tensor],
                         degrees: Iterable[int],
                         features: Callable[[torch.Tensor, int], torch.Tensor]
                         = legendre_features) -> CapacityCurve:
    """Like :func:`capacity_curve`, but each degree gets the minimum-norm
    least-squares weights on ``features(x, degree)`` (Legendre polynomials by
    default), so degrees at and past ``n - 1`` interpolate the ``n`` training
    points with the smallest weights that do."""
    curve = CapacityCurve(list(degrees))
    for degree in curve.degrees:
        w = min_norm_least_squares(features(train[0], degree), train[1])  # (d + 1,)
        for (x, y), errors in ((train, curve.train_mse), (test, curve.test_mse)):
            errors.append(mse(features(x, degree) @ w, y).item())
    return curve


@dataclass
class PolynomialSizeCurve:
    """Training and test mean squared error for each training-set size."""

    sizes: list[int]
    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)


def polynomial_size_curve(sizes: Iterable[int], degree: int,
                          test: tuple[torch.Tensor, torch.Tensor], noise: float = 0.3,
                          seed: int = 0) -> PolynomialSizeCurve:
    """Fit one polynomial degree to training sets of growing size, ``x`` evenly
    spaced on ``[-1, 1]`` (:func:`~introdl.polynomial.noisy_sine`); ``test`` is a
    pair ``(x, y)``."""
    curve = PolynomialSizeCurve(list(sizes))
    for n in curve.sizes:
        x, y = noisy_sine(n, noise, grid=True, seed=seed)
        w = fit_polynomial(x, y, degree)
        curve.train_mse.append(mse(predict_polynomial(w, x), y).item())
        curve.test_mse.append(mse(predict_polynomial(w, test[0]), test[1]).item())
    return curve


@dataclass
class DigitsSizeCurve:
    """Cross-entropy and accuracy after training on ``n`` digits, for each ``n``."""

    sizes: list[int]
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    num_weights: int = 0  # of the network


def digits_size_curve(train: tuple[torch.Tensor, torch.Tensor],
                      test: tuple[torch.Tensor, torch.Tensor], sizes: Iterable[int],
                      hidden_size: int = 64, num_steps: int = 200, lr: float = 1e-2,
                      seed: int = 0) -> DigitsSizeCurve:
    """Train the same network on the first ``n`` examples of ``train`` for each
    ``n`` in ``sizes``; measure it on those examples and on ``test``.

    The network is ``64 -> hidden_size -> 10`` with a ReLU, starts from the
    same weights (drawn from ``seed``) for every ``n``, and takes ``num_steps``
    full-batch Adam steps. PyTorch's global random state is left alone.
    """
    curve = DigitsSizeCurve(list(sizes))
    for n in curve.sizes:
        with torch.random.fork_rng(devices=[]):  # seed the weights, then restore
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Linear(64, hidden_size), nn.ReLU(),
                                  nn.Linear(hidden_size, 10))
        curve.num_weights = sum(p.numel() for p in model.parameters())
        subset = train[0][:n], train[1][:n]
        fit(model, subset, loss_fn=F.cross_entropy, num_epochs=num_steps,  # full batch
            optimizer=torch.optim.Adam(model.parameters(), lr=lr),
            generator=torch.Generator().manual_seed(seed))
        for data, losses, accs in ((subset, curve.train_loss, curve.train_acc),
                                   (test, curve.test_loss, curve.test_acc)):
            loss, acc = evaluate(model, data, F.cross_entropy, accuracy)
            losses.append(loss)
            accs.append(acc)
    return curve
