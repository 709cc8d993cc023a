"""Tests of the experiments of the chapter "Stochastic gradient descent"."""

import math

import pytest
import torch

from introdl.experiments.sgd import (
    BatchSizeSweep,
    TimedRun,
    batch_size_lr_sweep,
    minibatch_gradient_variance,
    timed_training,
)
from introdl.landscape import tiny_mlp
from introdl.optim import SGD


def test_minibatch_variance_follows_the_sampling_formula():
    g = torch.Generator().manual_seed(0)
    G = torch.randn(40, 3, generator=g, dtype=torch.float64) * torch.tensor([1., 2, 3])
    n = len(G)
    sigma2 = ((G - G.mean(0)) ** 2).sum(1).mean().item()
    sizes = [1, 4, 10, 40]
    measured = minibatch_gradient_variance(G, sizes, num_draws=4000, generator=g)
    for B, v in zip(sizes[:-1], measured[:-1]):
        assert v.item() == pytest.approx(sigma2 / B * (n - B) / (n - 1), rel=0.1)
    assert measured[-1].item() == pytest.approx(0.0, abs=1e-20)  # B = n: exact
    again = minibatch_gradient_variance(G, sizes, 50, torch.Generator().manual_seed(1))
    assert torch.equal(again, minibatch_gradient_variance(
        G, sizes, 50, torch.Generator().manual_seed(1)))


@pytest.mark.parametrize("sizes, error, match", [
    ([0], ValueError, "batch size must be > 0"),
    ([41], ValueError, "batch size must be at most n=40"),
    ([2.5], TypeError, "batch size must be an int"),
])
def test_minibatch_variance_rejects_bad_batch_sizes(sizes, error, match):
    with pytest.raises(error, match=match):
        minibatch_gradient_variance(torch.zeros(40, 2), sizes)


def test_timed_training_records_epochs_time_and_falling_loss(make_data):
    X, y = make_data(n=40)
    make = lambda: tiny_mlp(5, 8, 3, seed=0).double()  # noqa: E731
    r = timed_training(make, (X, y), optimizer=SGD, batch_size=1, lr=0.05,
                       num_epochs=2, evals_per_epoch=4)
    assert isinstance(r, TimedRun)
    assert r.epoch == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert len(r.time) == len(r.loss) == 9
    assert all(b > a for a, b in zip(r.time, r.time[1:]))
    assert r.loss[-1] < r.loss[0]
    full = timed_training(make, (X, y), optimizer=SGD, batch_size=None, lr=0.5,
                          num_epochs=3)
    assert full.epoch == [0.0, 1.0, 2.0, 3.0] and full.loss[0] == r.loss[0]
    with pytest.raises(ValueError, match="evals_per_epoch must be 1"):
        timed_training(make, (X, y), optimizer=SGD, batch_size=None, lr=0.5,
                       num_epochs=1, evals_per_epoch=2)


def test_batch_size_lr_sweep_marks_divergence_and_matches_steps(make_data):
    X, y = make_data(n=40)
    make = lambda: tiny_mlp(5, 8, 3, seed=0).double()  # noqa: E731
    res = batch_size_lr_sweep(make, (X, y), optimizer=SGD, batch_sizes=[4, 40],
                              lrs=[0.1, 1e6, math.inf], num_steps=10)
    assert isinstance(res, BatchSizeSweep)
    assert res.batch_sizes == [4, 40] and res.lrs == [0.1, 1e6, math.inf]
    row = res.losses[0]
    assert math.isfinite(row[0]) and row[1] > 100 * row[0]
    assert row[2] == math.inf  # a NaN loss is reported as inf
    again = batch_size_lr_sweep(make, (X, y), optimizer=SGD, batch_sizes=[40],
                                lrs=[0.1], num_steps=10)
    assert again.losses[0][0] == res.losses[1][0]
    assert res.best_lr(4) == 0.1 and res.best_lr(40) == 0.1


def test_best_lr_takes_the_first_of_equal_losses():
    sweep = BatchSizeSweep([8], [0.1, 0.3, 1.0], [[0.5, 0.2, 0.2]])
    assert sweep.best_lr(8) == 0.3
    with pytest.raises(ValueError):
        sweep.best_lr(16)


def test_minibatch_variance_misuse():
    G = torch.randn(10, 3)
    for bad, error in ((G[0], ValueError), (G.long(), TypeError), ([[1.0]], TypeError)):
        with pytest.raises(error, match="G"):
            minibatch_gradient_variance(bad, [1])
    with pytest.raises(ValueError, match="num_draws"):
        minibatch_gradient_variance(G, [1], num_draws=0)
    empty = minibatch_gradient_variance(G, [])
    assert empty.shape == (0,) and empty.dtype == torch.float64
    gen_sizes = minibatch_gradient_variance(G, (b for b in (1, 10)), num_draws=5)
    assert gen_sizes.shape == (2,) and gen_sizes[1] < 1e-12


def test_minibatch_variance_of_a_zero_dim_gradient_set():
    G = torch.zeros(4, 0)  # no parameters: every mini-batch gradient is exact
    assert minibatch_gradient_variance(G, [1, 2]).tolist() == [0.0, 0.0]
