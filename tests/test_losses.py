import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.losses import (binary_cross_entropy, cross_entropy, logsumexp,
                            loss_along_weight, mse, per_example_cross_entropy,
                            plot_bce, plot_empirical_loss, plot_mse, softmax)

D = torch.float64


def _grad(loss, x):
    return torch.autograd.grad(loss, x)[0]


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
def test_mse_matches_torch_values_and_grads(shape):
    y_hat = torch.randn(*shape, dtype=D, requires_grad=True)
    y = torch.randn(*shape, dtype=D)
    ours, theirs = mse(y_hat, y), F.mse_loss(y_hat, y)
    assert ours.shape == ()
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(_grad(ours, y_hat), _grad(theirs, y_hat))


@pytest.mark.parametrize("shape", [(7,), (4, 3)])
def test_bce_matches_torch_values_and_grads(shape):
    p = torch.rand(*shape, dtype=D).clamp(1e-3, 1 - 1e-3).requires_grad_()
    y = (torch.rand(*shape, dtype=D) > 0.5).to(D)
    ours, theirs = binary_cross_entropy(p, y), F.binary_cross_entropy(p, y)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(_grad(ours, p), _grad(theirs, p))


def test_bce_soft_labels_match_torch():
    p = torch.rand(6, dtype=D, requires_grad=True)
    y = torch.rand(6, dtype=D)
    ours, theirs = binary_cross_entropy(p, y), F.binary_cross_entropy(p, y)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(_grad(ours, p), _grad(theirs, p))


def test_bce_at_zero_and_one_is_clamped_like_torch():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=D, requires_grad=True)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=D)
    ours = binary_cross_entropy(p, y)
    torch.testing.assert_close(ours, F.binary_cross_entropy(p, y))
    assert ours.item() == 50.0  # two perfect answers, two clamped at 100
    assert torch.isfinite(_grad(ours, p)).all()


def test_cross_entropy_matches_torch_values_and_grads():
    logits = torch.randn(8, 5, dtype=D, requires_grad=True)
    target = torch.randint(0, 5, (8,))
    ours, theirs = cross_entropy(logits, target), F.cross_entropy(logits, target)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(_grad(ours, logits), _grad(theirs, logits))
    torch.testing.assert_close(per_example_cross_entropy(logits, target),
                               F.cross_entropy(logits, target, reduction="none"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cross_entropy_is_stable_for_huge_logits(dtype):
    g = torch.Generator().manual_seed(0)
    logits = (1e4 * torch.randn(6, 4, generator=g)).to(dtype).requires_grad_()
    target = torch.tensor([0, 1, 2, 3, 0, 1])
    ours, theirs = cross_entropy(logits, target), F.cross_entropy(logits, target)
    assert torch.isfinite(ours) and ours > 100
    torch.testing.assert_close(ours, theirs)
    grad = _grad(ours, logits)
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(grad, _grad(theirs, logits))


def test_confident_correct_prediction_costs_nothing():
    logits = torch.tensor([[1e4, 0.0, -1e4]])
    assert cross_entropy(logits, torch.tensor([0])).item() == 0.0
    assert cross_entropy(logits, torch.tensor([2])).item() == pytest.approx(2e4)


@given(st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_softmax_is_a_distribution_and_logsumexp_is_exact(values):
    z = torch.tensor(values, dtype=D)
    p = softmax(z)
    assert (p >= 0).all()
    torch.testing.assert_close(p.sum(), torch.tensor(1.0, dtype=D))
    torch.testing.assert_close(p, torch.softmax(z, dim=0))
    torch.testing.assert_close(logsumexp(z), torch.logsumexp(z, dim=0))


def test_cross_entropy_chance_level_is_log_c():
    logits = torch.zeros(3, 10)
    target = torch.tensor([0, 4, 9])
    assert cross_entropy(logits, target).item() == pytest.approx(math.log(10))


@pytest.mark.parametrize("fn, a, b, match", [
    (mse, torch.zeros(3), torch.zeros(4), "same shape"),
    (mse, torch.zeros(0), torch.zeros(0), "empty"),
    (binary_cross_entropy, torch.full((2,), 0.5), torch.zeros(2, 1), "same shape"),
    (binary_cross_entropy, torch.tensor([0.5, 1.2]), torch.ones(2), r"p must lie"),
    (binary_cross_entropy, torch.tensor([-0.1, 0.5]), torch.ones(2), r"p must lie"),
    (binary_cross_entropy, torch.tensor([float("nan")]), torch.ones(1), "p must"),
    (binary_cross_entropy, torch.full((2,), 0.5), torch.tensor([0.0, 2.0]),
     r"y must lie"),
    (cross_entropy, torch.zeros(3, 4), torch.tensor([0, 4, 1]), r"\[0, 3\], got 4"),
    (cross_entropy, torch.zeros(3, 4), torch.tensor([0, -1, 1]), r"got -1"),
    (cross_entropy, torch.zeros(3, 4), torch.tensor([0, 1]), "target must have"),
    (cross_entropy, torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), "empty"),
    (cross_entropy, torch.zeros(4), torch.tensor([0]), "logits must have 2"),
])
def test_bad_inputs_raise_value_error(fn, a, b, match):
    with pytest.raises(ValueError, match=match):
        fn(a, b)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="target must hold integer"):
        cross_entropy(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(TypeError, match="logits must have a floating"):
        cross_entropy(torch.zeros(2, 3, dtype=torch.int64), torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="y_hat must be a torch.Tensor"):
        mse([1.0], torch.zeros(1))


def test_loss_along_weight_restores_and_is_minimal_at_optimum():
    # least squares: J(w) is a parabola whose minimum is the trained weight
    X = torch.linspace(-1, 1, 20)[:, None]
    y = 2.0 * X
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(2.0)
    offsets = torch.linspace(-1, 1, 21)
    losses = loss_along_weight(model, model.weight, (0, 0), (X, y), offsets, mse)
    assert losses.argmin().item() == 10 and losses[10].item() == pytest.approx(0.0)
    assert model.weight.item() == 2.0


def test_figures_have_labelled_axes():
    fig = plot_bce()
    assert all(ax.get_ylabel() == "loss" for ax in fig.axes)
    x = torch.linspace(0, 3, 10)
    fig = plot_mse(x, 1.5 * x, slope=1.0)
    assert fig.axes[1].get_xlabel() == "slope $w$"
    fig = plot_empirical_loss({"a": torch.rand(50), "b": torch.rand(50) / 10},
                              {"train": [2.0, 1.0, 0.5]})
    assert fig.axes[0].get_yscale() == "log" and fig.axes[1].get_xlabel() == "epoch"
