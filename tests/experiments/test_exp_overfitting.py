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
    polynomial_size_curve,
)
from introdl.polynomial import noisy_sine


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
