import math
import multiprocessing

import psutil
import pytest
import torch

from introdl.landscape import tiny_mlp
from introdl.optim import SGD
from introdl.parallel import data_parallel_gradient, draw_data_parallel
from introdl.sgd import (batch_size_lr_sweep, minibatch_gradient_variance,
                         per_example_gradients, plot_batch_size_lr_sweep,
                         plot_gradient_variance, plot_loss_vs_epochs_and_time,
                         timed_training)

F = torch.nn.functional


def _data(n=48, d=5, C=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64),
            torch.randint(0, C, (n,), generator=g))


def test_per_example_gradients_average_to_the_full_gradient():
    X, y = _data()
    model = tiny_mlp(5, 4, 3, seed=0).double()
    G = per_example_gradients(model, F.cross_entropy, X, y)
    assert G.shape == (48, 4 * 6 + 3 * 5)
    full = torch.autograd.grad(F.cross_entropy(model(X), y), list(model.parameters()))
    torch.testing.assert_close(G.mean(0), torch.cat([g.reshape(-1) for g in full]))
    one = torch.autograd.grad(F.cross_entropy(model(X[7:8]), y[7:8]),
                              list(model.parameters()))
    torch.testing.assert_close(G[7], torch.cat([g.reshape(-1) for g in one]))


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


def test_timed_training_records_epochs_time_and_falling_loss():
    X, y = _data(n=40)
    make = lambda: tiny_mlp(5, 8, 3, seed=0).double()  # noqa: E731
    r = timed_training(make, (X, y), optimizer=SGD, batch_size=1, lr=0.05,
                       num_epochs=2, evals_per_epoch=4)
    assert r["epoch"] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert len(r["time"]) == len(r["loss"]) == 9
    assert all(b > a for a, b in zip(r["time"], r["time"][1:]))
    assert r["loss"][-1] < r["loss"][0]
    full = timed_training(make, (X, y), optimizer=SGD, batch_size=None, lr=0.5,
                          num_epochs=3)
    assert full["epoch"] == [0.0, 1.0, 2.0, 3.0] and full["loss"][0] == r["loss"][0]
    with pytest.raises(ValueError, match="evals_per_epoch must be 1"):
        timed_training(make, (X, y), optimizer=SGD, batch_size=None, lr=0.5,
                       num_epochs=1, evals_per_epoch=2)
    fig = plot_loss_vs_epochs_and_time({"B = 1": r, "full": full})
    assert fig.axes[0].get_xlabel() == "epoch"


def test_batch_size_lr_sweep_marks_divergence_and_matches_steps():
    X, y = _data(n=40)
    make = lambda: tiny_mlp(5, 8, 3, seed=0).double()  # noqa: E731
    res = batch_size_lr_sweep(make, (X, y), optimizer=SGD, batch_sizes=[4, 40],
                              lrs=[0.1, 1e6, math.inf], num_steps=10)
    assert set(res) == {4, 40} and list(res[4]) == [0.1, 1e6, math.inf]
    assert math.isfinite(res[4][0.1]) and res[4][1e6] > 100 * res[4][0.1]
    assert res[4][math.inf] == math.inf  # a NaN loss is reported as inf
    again = batch_size_lr_sweep(make, (X, y), optimizer=SGD, batch_sizes=[40],
                                lrs=[0.1], num_steps=10)
    assert again[40][0.1] == res[40][0.1]
    fig = plot_batch_size_lr_sweep(res)
    assert fig.axes[0].get_xscale() == "log"


def test_variance_plot_labels_the_batch_sizes():
    fig = plot_gradient_variance([1, 2, 4], torch.tensor([1.0, 0.5, 0.25]), 1.0, 10)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "4"]


def _no_children():
    return not multiprocessing.active_children() and not psutil.Process().children()


@pytest.mark.parametrize("world_size", [2, 3])
def test_data_parallel_gradient_equals_single_process_gradient(world_size):
    X, y = _data(n=48)
    model = tiny_mlp(5, 6, 3, seed=4).double()
    before = [p.detach().clone() for p in model.parameters()]
    grads = data_parallel_gradient(model, X, y, F.cross_entropy, world_size=world_size)
    assert _no_children()  # every worker was joined
    assert all(p.grad is None for p in model.parameters())  # model untouched
    for p, b in zip(model.parameters(), before):
        assert torch.equal(p.detach(), b)
    F.cross_entropy(model(X), y).backward()
    assert len(grads) == len(before)
    for ours, p in zip(grads, model.parameters()):
        torch.testing.assert_close(ours, p.grad)


def test_data_parallel_gradient_rejects_uneven_shards():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="multiple of world_size=3"):
        data_parallel_gradient(tiny_mlp(5, 4, 3).double(), X, y, F.cross_entropy, 3)
    with pytest.raises(ValueError, match="world_size must be > 0"):
        data_parallel_gradient(tiny_mlp(5, 4, 3).double(), X, y, F.cross_entropy, 0)
    assert _no_children()


def test_worker_errors_surface_and_leave_no_process():
    X, y = _data(n=8)
    with pytest.raises(Exception, match="Expected|size|shape"):
        data_parallel_gradient(tiny_mlp(6, 4, 3).double(), X, y, F.cross_entropy, 2)
    assert _no_children()


def test_data_parallel_diagram():
    texts = [t.get_text() for t in draw_data_parallel(3).axes[0].texts]
    assert "worker 2\nmodel copy" in texts and "$g_{2}$" not in texts
    assert "$g_2$" in texts
