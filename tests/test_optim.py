import math

import pytest
import torch

from introdl import optim
from introdl.landscape import rosenbrock, tiny_mlp
from introdl.optim import optimize, parameter_trajectory, sweep_learning_rates

F = torch.nn.functional

SETTINGS = [
    ("SGD", dict(lr=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.003, alpha=0.8, eps=1e-6)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6)),
]


def _data(n=40, d=5, C=3):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, d, generator=g, dtype=torch.float64),
            torch.randint(0, C, (n,), generator=g))


@pytest.mark.parametrize("name, hyper", SETTINGS)
def test_trajectory_equals_torch_optim_in_float64(name, hyper):
    X, y = _data()
    paths = []
    for library in (optim, torch.optim):
        model = tiny_mlp(5, 6, 3, seed=1).double()
        opt = getattr(library, name)(model.parameters(), **hyper)
        paths.append(parameter_trajectory(model, opt, F.cross_entropy, X, y, 12))
    assert paths[0].shape == (13, 6 * 6 + 3 * 7)
    assert not torch.allclose(paths[0][0], paths[0][-1])  # the weights did move
    torch.testing.assert_close(paths[0], paths[1])


@pytest.mark.parametrize("name, hyper", SETTINGS[1::2])
def test_mini_batch_training_equals_torch_optim(name, hyper):
    """Different gradients at every step (mini-batches), several tensors."""
    X, y = _data(n=48)
    params = []
    for library in (optim, torch.optim):
        model = tiny_mlp(5, 6, 3, seed=2).double()
        opt = getattr(library, name)(model.parameters(), **hyper)
        for idx in torch.arange(48).split(8) * 2:
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
        params.append(torch.nn.utils.parameters_to_vector(model.parameters()))
    torch.testing.assert_close(params[0], params[1])


def test_parameters_without_gradient_are_left_alone():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a ** 2).sum().backward()
    opt.step()
    assert torch.equal(b, torch.ones(2)) and not torch.equal(a, torch.ones(3))
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=-0.1), r"lr must lie in \[0, inf\], got -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
    (lambda p: optim.RMSprop(p, lr=-1e-3), "lr"),
    (lambda p: optim.RMSprop(p, alpha=1.0), r"alpha must lie in \[0, 1\), got 1.0"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "alpha"),
    (lambda p: optim.RMSprop(p, eps=-1.0), "eps"),
    (lambda p: optim.Adam(p, lr=-0.01), "lr"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.5)), r"betas\[1\]"),
    (lambda p: optim.Adam(p, betas=(-0.1, 0.999)), r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: optim.SGD([], lr=0.1), "params"),
])
def test_bad_hyperparameters_raise_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make([torch.zeros(2, requires_grad=True)])


def test_non_tensor_parameters_raise_type_error():
    with pytest.raises(TypeError, match=r"params\[1\] must be a torch.Tensor"):
        optim.SGD([torch.zeros(2), [1.0]], lr=0.1)


def test_adam_first_step_has_size_lr_whatever_the_gradient():
    w = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (torch.tensor([1e-3, -50.0, 7.0], dtype=torch.float64) * w).sum().backward()
    opt.step()
    expected = torch.tensor([0.9, -1.9, 2.9], dtype=torch.float64)
    torch.testing.assert_close(w.detach(), expected, rtol=0, atol=1e-5)


def test_optimize_records_path_and_stops_on_divergence():
    start = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    path, losses = optimize(rosenbrock, start, optim.Adam, 200, lr=0.1)
    assert path.shape == (201, 2) and losses.shape == (201,)
    assert losses[-1] < 0.2 * losses[0]
    torch.testing.assert_close(losses, rosenbrock(path))
    path, losses = optimize(rosenbrock, start, optim.SGD, 500, lr=0.1)
    assert len(path) < 501 and not math.isfinite(losses[-1].item())
    assert start.tolist() == [-1.5, 2.0]


def test_sweep_learning_rates_is_seeded_and_complete():
    X, y = _data(n=60)
    make = lambda: tiny_mlp(5, 8, 3, seed=0).double()  # noqa: E731
    runs = [sweep_learning_rates(make, (X, y), (X[:20], y[:20]), optim.Adam,
                                 [1e-3, 1e-2], num_epochs=3, batch_size=20)
            for _ in range(2)]
    assert list(runs[0]) == [1e-3, 1e-2]
    assert all(h.num_epochs == 3 and len(h.val_loss) == 3 for h in runs[0].values())
    assert runs[0][1e-2].val_loss == runs[1][1e-2].val_loss
    assert runs[0][1e-2].val_loss[-1] < runs[0][1e-3].val_loss[-1]
