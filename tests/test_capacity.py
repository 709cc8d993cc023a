import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.capacity import (capacity_curve, digits_size_curve, fit_polynomial,
                              noisy_sine, plot_capacity_curve, plot_fits,
                              plot_gap_vs_size, polynomial_features,
                              polynomial_size_curve, predict_polynomial)
from introdl.losses import mse


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
    with pytest.raises(ValueError, match="y must have the shape of x"):
        fit_polynomial(x, y[:5], 2)
    with pytest.raises(ValueError, match="l2"):
        fit_polynomial(x, y, 2, l2=-1.0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 25))
def test_training_error_never_grows_with_degree(seed, n):
    train, test = noisy_sine(n, seed=seed), noisy_sine(20, seed=seed + 1)
    errs = capacity_curve(train, test, range(6))["train_mse"]
    # larger degrees contain the smaller ones, so least squares can only improve
    assert all(b <= a * (1 + 1e-9) + 1e-12 for a, b in zip(errs, errs[1:]))


def test_capacity_curve_tells_the_story():
    train, test = noisy_sine(15, grid=True), noisy_sine(1000, seed=1)
    c = capacity_curve(train, test, range(15))
    best = c["degrees"][int(np.argmin(c["test_mse"]))]
    assert 2 < best < 10  # neither the smallest nor the largest model wins
    assert c["train_mse"][-1] < 1e-12 and c["test_mse"][-1] > 10 * min(c["test_mse"])


def test_polynomial_gap_closes_with_more_data():
    test = noisy_sine(1000, seed=1)
    c = polynomial_size_curve([15, 1000], 12, test)
    gaps = [te - tr for tr, te in zip(c["train"], c["test"])]
    assert gaps[1] < 0.1 * gaps[0]
    assert abs(c["test"][1] - 0.09) < 0.02  # close to the noise level 0.3 ** 2


def test_digits_gap_shrinks_with_more_data():
    c = digits_size_curve([25, 400], hidden_size=32, num_steps=60)
    gaps = [te - tr for tr, te in zip(c["train_loss"], c["test_loss"])]
    assert gaps[1] < 0.5 * gaps[0]
    assert c["test_acc"][1] > c["test_acc"][0]


def test_plots_return_figures_and_check_lengths():
    train, test = noisy_sine(10, grid=True), noisy_sine(100, seed=1)
    fig = plot_fits(train, {"degree 1": fit_polynomial(*train, 1),
                            "degree 9": fit_polynomial(*train, 9)}, noise=0.3)
    assert [ax.get_title() for ax in fig.axes] == ["degree 1", "degree 9"]
    fig = plot_capacity_curve(capacity_curve(train, test, range(10)), noise=0.3)
    assert fig.axes[0].get_yscale() == "log"
    assert any("about 0" in t.get_text() for t in fig.axes[0].texts)
    fig = plot_gap_vs_size([10, 100], [0.1, 0.2], [0.5, 0.25], title="t")
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="equal lengths"):
        plot_gap_vs_size([10, 100], [0.1], [0.5, 0.2])
