import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad

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
    torch.testing.assert_close(sigmoid(x),
                               torch.tensor([0.0, 1.0], dtype=torch.float64))
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


# --- misuse: what readers' projects will pass in -------------------------------

ALL = [sigmoid, sigmoid_grad, tanh, tanh_grad, relu, relu_grad]
TORCH = {sigmoid: torch.sigmoid, tanh: torch.tanh, relu: torch.relu}
GRADS = {sigmoid_grad: torch.sigmoid, tanh_grad: torch.tanh, relu_grad: torch.relu}


@pytest.mark.parametrize("f", ALL)
@pytest.mark.parametrize("bad, error", [
    (None, "x must be a torch.Tensor, got NoneType"),
    (1.5, "x must be a torch.Tensor, got float"),
    ((v for v in [1.0]), "x must be a torch.Tensor, got generator"),
    (torch.tensor([True]), "x must have a floating-point dtype, got torch.bool"),
    (torch.tensor([1 + 2j]), "x must have a floating-point dtype, got torch.complex64"),
])
def test_non_float_tensors_raise_type_error_naming_x(f, bad, error):
    with pytest.raises(TypeError, match=error):
        f(bad)


@pytest.mark.parametrize("f", ALL)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2)])
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_zero_d_and_empty_tensors_keep_shape_and_dtype(f, shape, dtype):
    x = torch.zeros(shape, dtype=dtype)
    y = f(x)
    assert y.shape == x.shape and y.dtype == dtype and y.device == x.device


@pytest.mark.parametrize("ours, theirs", list(TORCH.items()))
def test_nan_and_inf_behave_like_torch(ours, theirs):
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 0.0],
                     dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), equal_nan=True)


@pytest.mark.parametrize("ours, theirs", list(GRADS.items()))
def test_derivatives_at_nan_and_inf_match_autograd(ours, theirs):
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0],
                     dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(theirs(x).sum(), x)
    torch.testing.assert_close(ours(x), expected, equal_nan=True)


@pytest.mark.parametrize("ours, theirs", list(TORCH.items()))
def test_zero_d_matches_torch(ours, theirs):
    x = torch.tensor(-0.7)
    y = ours(x)
    assert y.shape == () and torch.isclose(y, theirs(x))


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32),
                max_size=6))
@settings(max_examples=100, deadline=None)
def test_any_float32_values_match_torch(values):
    x = torch.tensor(values, dtype=torch.float32)
    for ours, theirs in TORCH.items():
        torch.testing.assert_close(ours(x), theirs(x), equal_nan=True)


def test_inputs_are_not_modified_and_stay_on_their_device():
    x = torch.tensor([-1.0, 2.0], device="meta")
    assert all(f(x).device.type == "meta" for f in ALL)
    y = torch.tensor([-1.0, 2.0])
    for f in ALL:
        f(y)
    assert y.tolist() == [-1.0, 2.0]
