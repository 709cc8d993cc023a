"""Tests of data parallelism with worker processes (introdl.parallel)."""

import multiprocessing
import warnings

import psutil
import pytest
import torch

from introdl.landscape import tiny_mlp
from introdl.parallel import data_parallel_gradient

F = torch.nn.functional


def _no_children():
    return not multiprocessing.active_children() and not psutil.Process().children()


@pytest.mark.parametrize("world_size", [2, 3])
def test_data_parallel_gradient_equals_single_process_gradient(world_size,
                                                               make_data):
    X, y = make_data(n=48)
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


def test_data_parallel_gradient_rejects_uneven_shards(make_data):
    X, y = make_data(n=10)
    with pytest.raises(ValueError, match="multiple of world_size=3"):
        data_parallel_gradient(tiny_mlp(5, 4, 3).double(), X, y, F.cross_entropy, 3)
    with pytest.raises(ValueError, match="world_size must be > 0"):
        data_parallel_gradient(tiny_mlp(5, 4, 3).double(), X, y, F.cross_entropy, 0)
    assert _no_children()


def test_worker_errors_surface_and_leave_no_process(make_data):
    X, y = make_data(n=8)
    with pytest.raises(Exception, match="Expected|size|shape"):
        data_parallel_gradient(tiny_mlp(6, 4, 3).double(), X, y, F.cross_entropy, 2)
    assert _no_children()


@pytest.mark.parametrize("args, error, match", [
    (dict(model=lambda X: X), TypeError, "model must be an nn.Module"),
    (dict(X=[[0.0] * 5] * 4), TypeError, "X and y must be tensors"),
    (dict(y=None), TypeError, "X and y must be tensors"),
    (dict(X=torch.zeros(0, 5), y=torch.zeros(0, dtype=torch.long)), ValueError,
     "positive multiple"),
    (dict(X=torch.tensor(1.0), y=torch.tensor(0)), ValueError, "positive multiple"),
    (dict(world_size=None), TypeError, "world_size"),
    (dict(world_size=2.0), TypeError, "world_size"),
])
def test_data_parallel_gradient_misuse_is_refused_before_any_process(args, error,
                                                                     match, make_data):
    X, y = make_data(n=4)
    call = dict(model=tiny_mlp(5, 4, 3).double(), X=X, y=y, world_size=2)
    call.update(args)
    with pytest.raises(error, match=match):
        data_parallel_gradient(call["model"], call["X"], call["y"], F.cross_entropy,
                               call["world_size"])
    assert _no_children()


def test_one_worker_is_the_single_process_gradient_and_no_warning_leaks(make_data):
    X, y = make_data(n=6)
    model = tiny_mlp(5, 4, 3, seed=1).double()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = data_parallel_gradient(model, X, y, F.cross_entropy, world_size=1)
    F.cross_entropy(model(X), y).backward()
    for ours, p in zip(grads, model.parameters()):
        torch.testing.assert_close(ours, p.grad)
