import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.losses import mse
from introdl.polynomial import (
    fit_polynomial,
    legendre_features,
    min_norm_least_squares,
    noisy_sine,
    polynomial_features,
    predict_polynomial,
    true_function,
)


def test_noisy_sine_is_seeded_and_shaped():
    x1, y1 = noisy_sine(20, seed=3)
    x2, y2 = noisy_sine(20, seed=3)
    assert x1.shape == y1.shape == (20,) and x1.dtype == torch.float64
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert -1 <= x1.min() and x1.max() <= 1
    xg, _ = noisy_sine(5, grid=True)
    torch.testing.assert_close(xg, torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0],
                                                dtype=torch.float64))
    x, y = noisy_sine(50, noise=0.0)
    torch.testing.assert_close(y, torch.sin(torch.pi * x))


def test_polynomial_features():
    phi = polynomial_features(torch.tensor([2.0, -1.0]), 3)
    torch.testing.assert_close(phi, torch.tensor([[1.0, 2, 4, 8], [1, -1, 1, -1]]))
    with pytest.raises(ValueError, match="degree must be >= 0"):
        polynomial_features(torch.zeros(3), -1)
    with pytest.raises(ValueError, match="x must have 1 dimension"):
        polynomial_features(torch.zeros(3, 1), 2)


def test_fit_matches_numpy_polyfit_and_is_a_minimum():
    x, y = noisy_sine(30, seed=1)
    w = fit_polynomial(x, y, 5)
    expected = np.polynomial.polynomial.polyfit(x.numpy(), y.numpy(), 5)
    torch.testing.assert_close(w, torch.from_numpy(expected))
    w = w.clone().requires_grad_()
    loss = ((polynomial_features(x, 5) @ w - y) ** 2).mean()
    (grad,) = torch.autograd.grad(loss, w)
    torch.testing.assert_close(grad, torch.zeros_like(grad), atol=1e-10, rtol=0)


def test_degree_n_minus_one_interpolates():
    x, y = noisy_sine(8, grid=True, seed=2)
    w = fit_polynomial(x, y, 7)
    assert mse(predict_polynomial(w, x), y).item() < 1e-20


def test_l2_penalty_shrinks_all_but_the_constant():
    x, y = noisy_sine(15, grid=True)
    w0, w1 = fit_polynomial(x, y, 9), fit_polynomial(x, y, 9, l2=1e-2)
    assert w1[1:].norm() < w0[1:].norm()
    # the penalized fit is the minimum of mean squared error + l2 * |w[1:]|^2
    w1 = w1.clone().requires_grad_()
    residual = polynomial_features(x, 9) @ w1 - y
    loss = (residual ** 2).mean() + 1e-2 * (w1[1:] ** 2).sum()
    (grad,) = torch.autograd.grad(loss, w1)
    torch.testing.assert_close(grad, torch.zeros_like(grad), atol=1e-9, rtol=0)


def test_fit_rejects_bad_input():
    x, y = noisy_sine(10)
    with pytest.raises(ValueError, match="y must have the shape and dtype of x"):
        fit_polynomial(x, y[:5], 2)
    with pytest.raises(ValueError, match="l2"):
        fit_polynomial(x, y, 2, l2=-1.0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 25))
def test_training_error_never_grows_with_degree(seed, n):
    x, y = noisy_sine(n, seed=seed)
    errs = [mse(predict_polynomial(fit_polynomial(x, y, d), x), y).item()
            for d in range(6)]
    # larger degrees contain the smaller ones, so least squares can only improve
    assert all(b <= a * (1 + 1e-9) + 1e-12 for a, b in zip(errs, errs[1:]))


def test_true_function_any_shape():
    x = torch.tensor([[0.5, -0.5], [1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(true_function(x), torch.sin(torch.pi * x))
    assert true_function(torch.tensor(0.5)).shape == ()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n=0), ValueError, "n must be > 0"), (dict(n=2.0), TypeError, "n"),
    (dict(n=None), TypeError, "n"), (dict(noise=-0.1), ValueError, "noise"),
    (dict(noise=math.nan), ValueError, "noise"), (dict(noise=None), TypeError, "noise"),
])
def test_noisy_sine_misuse(kwargs, error, match):
    args = dict(n=5, noise=0.3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        noisy_sine(**args)


def test_one_point_and_degree_zero():
    x, y = noisy_sine(1, grid=True)
    assert x.tolist() == [-1.0]  # linspace of one point
    w = fit_polynomial(x, y, 0)
    torch.testing.assert_close(w, y)  # the constant through the only point
    x, y = noisy_sine(10)
    torch.testing.assert_close(fit_polynomial(x, y, 0), y.mean()[None])


@pytest.mark.parametrize("x, error", [
    (torch.tensor(0.5, dtype=torch.float64), ValueError),
    (torch.zeros(3, 2, dtype=torch.float64), ValueError),
    (torch.tensor([1, 2]), TypeError), ([0.5, 1.0], TypeError),
])
def test_polynomial_features_misuse(x, error):
    with pytest.raises(error, match="x"):
        polynomial_features(x, 2)
    with pytest.raises((TypeError, ValueError), match="degree"):
        polynomial_features(torch.zeros(3), None)


def test_polynomial_features_of_no_points_and_devices():
    assert polynomial_features(torch.zeros(0), 3).shape == (0, 4)
    x = torch.tensor([2.0], dtype=torch.float32)
    phi = polynomial_features(x, 2)
    assert phi.dtype == torch.float32 and phi.device == x.device


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(y=[0.0] * 10), TypeError, "y must be a torch.Tensor"),
    (dict(y="y"), TypeError, "y"),
    (dict(dtype=torch.float32), ValueError, "dtype of x"),
    (dict(l2=None), TypeError, "l2"), (dict(l2=math.nan), ValueError, "l2"),
    (dict(degree=-1), ValueError, "degree"), (dict(degree=2.5), TypeError, "degree"),
])
def test_fit_polynomial_misuse(kwargs, error, match):
    x, y = noisy_sine(10)
    if "dtype" in kwargs:
        y = y.to(kwargs.pop("dtype"))
    args = dict(x=x, y=y, degree=2, l2=0.0)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fit_polynomial(**args)


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_fit_polynomial_refuses_non_finite_data(where, bad):
    """Least squares has no answer for NaN data (torch's lstsq even fails an
    internal assertion on it): refused with a clear error."""
    x, y = noisy_sine(10)
    (x if where == "x" else y)[3] = bad
    with pytest.raises(ValueError, match="both finite"):
        fit_polynomial(x, y, 2)


def test_predict_polynomial_misuse_and_dtype():
    x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    w = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float32)  # 1 + x^2
    out = predict_polynomial(w, x)
    assert out.dtype == torch.float64 and out.tolist() == [1.0, 2.0, 5.0]
    for bad, error in ((torch.zeros(2, 2), ValueError),
                       (torch.tensor([1, 2]), TypeError), ([1.0], TypeError)):
        with pytest.raises(error, match="w"):
            predict_polynomial(bad, x)
    with pytest.raises(ValueError, match="degree must be >= 0, got -1"):
        predict_polynomial(torch.zeros(0), x)
    assert predict_polynomial(w, torch.zeros(0)).shape == (0,)


def test_legendre_features_equal_numpy_and_span_the_powers():
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)
    for degree in (0, 1, 2, 7, 40):
        phi = legendre_features(x, degree)
        assert phi.shape == (11, degree + 1) and phi.dtype == x.dtype
        expected = np.polynomial.legendre.legvander(x.numpy(), degree)
        torch.testing.assert_close(phi, torch.from_numpy(expected))
    assert legendre_features(x, 40).abs().max() <= 1 + 1e-12  # bounded on [-1, 1]
    # same function space: the powers are a combination of the Legendre columns
    powers, leg = polynomial_features(x, 5), legendre_features(x, 5)
    coef = torch.linalg.lstsq(leg, powers).solution
    torch.testing.assert_close(leg @ coef, powers)
    assert legendre_features(x.float(), 3).dtype == torch.float32


def test_legendre_features_refuse_bad_input():
    with pytest.raises(ValueError, match="degree must be >= 0"):
        legendre_features(torch.zeros(3), -1)
    with pytest.raises(ValueError, match="x must have 1 dimension"):
        legendre_features(torch.zeros(3, 2), 2)
    with pytest.raises(TypeError, match="floating-point"):
        legendre_features(torch.arange(3), 2)
    with pytest.raises(TypeError, match="degree must be an int"):
        legendre_features(torch.zeros(3), 2.0)


@pytest.mark.parametrize("n, p", [(15, 4), (15, 15), (15, 40), (5, 200)])
def test_min_norm_least_squares_equals_pinv_and_numpy(n, p):
    g = torch.Generator().manual_seed(n + p)
    phi = torch.randn(n, p, dtype=torch.float64, generator=g)
    y = torch.randn(n, dtype=torch.float64, generator=g)
    w = min_norm_least_squares(phi, y)
    torch.testing.assert_close(w, torch.linalg.pinv(phi) @ y)
    w_np = np.linalg.lstsq(phi.numpy(), y.numpy(), rcond=None)[0]
    torch.testing.assert_close(w, torch.from_numpy(w_np))
    if p >= n:  # interpolates
        torch.testing.assert_close(phi @ w, y)
    if p > n:  # and any other solution is longer
        null = torch.linalg.svd(phi).Vh[n:]  # directions with phi v = 0
        other = w + null.T @ torch.randn(p - n, dtype=torch.float64, generator=g)
        torch.testing.assert_close(phi @ other, y)
        assert other.norm() > w.norm()


def test_min_norm_least_squares_on_a_rank_deficient_system():
    x = torch.linspace(-1, 1, 6, dtype=torch.float64)
    phi = torch.cat([legendre_features(x, 2)] * 3, dim=1)  # (6, 9), rank 3
    y = torch.sin(x)
    w = min_norm_least_squares(phi, y)
    torch.testing.assert_close(w, torch.linalg.pinv(phi) @ y)
    torch.testing.assert_close(w[:3], w[3:6])  # the copies share the weight equally
    base = min_norm_least_squares(legendre_features(x, 2), y)
    torch.testing.assert_close(3 * w[:3], base)


def test_min_norm_least_squares_refuses_bad_shapes():
    with pytest.raises(ValueError, match="phi must have 2 dimension"):
        min_norm_least_squares(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="y must be"):
        min_norm_least_squares(torch.zeros(3, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="y must be"):
        min_norm_least_squares(torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="n, p > 0"):
        min_norm_least_squares(torch.zeros(3, 0), torch.zeros(3))
    with pytest.raises(TypeError, match="y must be a torch.Tensor"):
        min_norm_least_squares(torch.zeros(3, 2), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="floating-point"):
        min_norm_least_squares(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3))
    w = min_norm_least_squares(torch.eye(3, dtype=torch.float64), torch.ones(3))
    assert w.dtype == torch.float64  # y is cast to phi's dtype
