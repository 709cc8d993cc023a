"""Tests of the experiments of the chapter "Overfitting"."""

import numpy as np
import pytest
import torch

from introdl.data import load_digits
from introdl.experiments.overfitting import (
    CapacityCurve,
    DigitsSizeCurve,
    capacity_curve,
    digits_size_curve,
    double_descent_curve,
    polynomial_size_curve,
)
from introdl.polynomial import noisy_sine, polynomial_features


def test_capacity_curve_tells_the_story():
    train, test = noisy_sine(15, grid=True), noisy_sine(1000, seed=1)
    c = capacity_curve(train, test, range(15))
    assert isinstance(c, CapacityCurve) and c.degrees == list(range(15))
    best = c.degrees[int(np.argmin(c.test_mse))]
    assert 2 < best < 10  # neither the smallest nor the largest model wins
    assert c.train_mse[-1] < 1e-12 and c.test_mse[-1] > 10 * min(c.test_mse)


def test_capacity_curve_accepts_a_generator_of_degrees_and_l2():
    train, test = noisy_sine(15, grid=True), noisy_sine(100, seed=1)
    c = capacity_curve(train, test, (d for d in (1, 14)), l2=1e-3)
    assert c.degrees == [1, 14] and len(c.train_mse) == len(c.test_mse) == 2
    assert c.train_mse[1] > 1e-6  # the penalty stops it from interpolating


def test_polynomial_gap_closes_with_more_data():
    test = noisy_sine(1000, seed=1)
    c = polynomial_size_curve([15, 1000], 12, test)
    gaps = [te - tr for tr, te in zip(c.train_mse, c.test_mse)]
    assert gaps[1] < 0.1 * gaps[0]
    assert abs(c.test_mse[1] - 0.09) < 0.02  # close to the noise level 0.3 ** 2


@pytest.mark.slow
def test_digits_gap_shrinks_with_more_data():
    split = load_digits()
    c = digits_size_curve(split.train, split.test, [25, 400], hidden_size=32,
                          num_steps=60)
    assert isinstance(c, DigitsSizeCurve) and c.sizes == [25, 400]
    gaps = [te - tr for tr, te in zip(c.train_loss, c.test_loss)]
    assert gaps[1] < 0.5 * gaps[0]
    assert c.test_acc[1] > c.test_acc[0]


def test_digits_size_curve_starts_every_size_from_the_same_weights():
    """The same seed gives the same run, and the global random state is left
    alone (a build repeats its numbers whatever torch's own seed)."""
    split = load_digits()
    state = torch.get_rng_state()
    a = digits_size_curve(split.train, split.test, [20], hidden_size=8, num_steps=3)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(12345)
    b = digits_size_curve(split.train, split.test, [20], hidden_size=8, num_steps=3)
    assert a == b
    c = digits_size_curve(split.train, split.test, [20], hidden_size=8, num_steps=3,
                          seed=1)
    assert c != a


def test_digits_size_curve_subsets_are_the_first_examples():
    split = load_digits()
    small = load_digits(n_train=30)
    a = digits_size_curve(split.train, split.test, [30], hidden_size=8, num_steps=2)
    b = digits_size_curve(small.train, small.test, [30], hidden_size=8, num_steps=2)
    assert a.train_loss == b.train_loss and a.test_loss == b.test_loss


def test_digits_size_curve_counts_the_weights():
    split = load_digits(n_train=30)
    c = digits_size_curve(split.train, split.test, [30], hidden_size=8, num_steps=1)
    assert c.num_weights == 64 * 8 + 8 + 8 * 10 + 10


def test_double_descent_curve_peaks_at_the_threshold_and_descends_again():
    train, test = noisy_sine(15, grid=True), noisy_sine(500, seed=1)
    degrees = list(range(15)) + [16, 20, 40, 100, 200]
    c = double_descent_curve(train, test, degrees)
    assert isinstance(c, CapacityCurve) and c.degrees == degrees
    peak = c.degrees[int(np.argmax(c.test_mse))]
    assert 12 <= peak <= 15  # at the interpolation threshold (15 weights)
    assert all(e < 1e-20 for d, e in zip(degrees, c.train_mse) if d >= 14)
    beyond = [e for d, e in zip(degrees, c.test_mse) if d >= 40]
    assert max(beyond) < 0.05 * max(c.test_mse)  # the second descent
    below = capacity_curve(train, test, range(14))  # the same fits below it
    np.testing.assert_allclose(c.test_mse[:14], below.test_mse, rtol=1e-6)


def test_double_descent_curve_takes_other_features():
    train, test = noisy_sine(15, grid=True), noisy_sine(200, seed=1)
    powers = double_descent_curve(train, test, [3, 100], features=polynomial_features)
    legendre = double_descent_curve(train, test, [3, 100])
    assert powers.test_mse[0] == pytest.approx(legendre.test_mse[0], rel=1e-6)
    assert powers.test_mse[1] > 100 * legendre.test_mse[1]  # the basis matters past it
