import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.activations import (plot_activations, relu, relu_grad, sigmoid,
                                 sigmoid_grad, tanh, tanh_grad)

PAIRS = [(sigmoid, sigmoid_grad, torch.sigmoid), (tanh, tanh_grad, torch.tanh),
         (relu, relu_grad, torch.relu)]
EXTREMES = torch.tensor([-1000.0, -50.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 50.0, 1000.0],
                        dtype=torch.float64)


@pytest.mark.parametrize("ours, ours_grad, theirs", PAIRS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_grads_match_torch(ours, ours_grad, theirs, dtype):
    x = (torch.randn(4, 5, 6, dtype=dtype) * 6).requires_grad_()
    torch.testing.assert_close(ours(x), theirs(x))
    (expected,) = torch.autograd.grad(theirs(x).sum(), x)
    torch.testing.assert_close(ours_grad(x), expected)


@pytest.mark.parametrize("ours, ours_grad, theirs", PAIRS)
def test_extremes_are_finite_and_correct(ours, ours_grad, theirs):
    x = EXTREMES.clone().requires_grad_()
    y = ours(x)
    assert torch.isfinite(y).all() and torch.isfinite(ours_grad(x)).all()
    torch.testing.assert_close(y, theirs(x))
    (expected,) = torch.autograd.grad(theirs(x).sum(), x)
    torch.testing.assert_close(ours_grad(x), expected)


@pytest.mark.parametrize("ours", [sigmoid, tanh, relu])
def test_autograd_through_ours_is_finite_at_extremes(ours):
    x = EXTREMES.clone().requires_grad_()
    ours(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_sigmoid_saturates_exactly():
    x = torch.tensor([-1000.0, 1000.0], dtype=torch.float64)
    torch.testing.assert_close(sigmoid(x), torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert sigmoid_grad(x).abs().max() < 1e-300


@given(st.floats(-700, 700, allow_nan=False))
@settings(max_examples=200, deadline=None)
def test_tanh_is_twice_sigmoid_shifted(v):
    x = torch.tensor([v], dtype=torch.float64)
    torch.testing.assert_close(tanh(x), 2 * sigmoid(2 * x) - 1, atol=1e-12, rtol=1e-9)


def test_relu_grad_is_zero_at_zero_like_autograd():
    assert relu_grad(torch.tensor([0.0])).item() == 0.0


@pytest.mark.parametrize("f", [sigmoid, tanh, relu, sigmoid_grad, tanh_grad, relu_grad])
def test_bad_inputs_raise(f):
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        f([1.0, 2.0])
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        f(torch.tensor([1, 2]))


def test_plot_activations_has_two_labelled_panels():
    fig = plot_activations()
    ax_f, ax_d = fig.axes
    assert [line.get_label() for line in ax_f.lines] == ["sigmoid", "tanh", "ReLU"]
    assert ax_d.get_ylabel() == "$g'(z)$"
