"""The argument checks every core module uses: each names the argument and what
it received, and passes good values through unchanged."""

import pytest
import torch

from introdl.checks import (
    check_ndim,
    check_number,
    check_positive_int,
    check_same_shape,
    check_scalar,
    check_tensor,
)


def test_check_tensor_returns_the_tensor_and_names_a_wrong_type():
    x = torch.zeros(2)
    assert check_tensor("x", x) is x
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor, got list"):
        check_tensor("x", [1.0])
    with pytest.raises(TypeError, match=r"x must have a floating-point dtype, got "
                                        r"torch.int64"):
        check_tensor("x", torch.zeros(2, dtype=torch.long), floating=True)


def test_check_tensor_options_name_what_was_expected():
    x = torch.zeros(4, 3)
    assert check_tensor("x", x, floating=True, ndim=(2,), shape=(4, 3), last_dim=3,
                        dtype=torch.float32) is x
    with pytest.raises(ValueError, match=r"x must have 1 dimension\(s\), got shape "
                                         r"\(4, 3\)"):
        check_tensor("x", x, ndim=(1,))
    with pytest.raises(ValueError, match=r"x must have shape \(3, 4\), got \(4, 3\)"):
        check_tensor("x", x, shape=torch.Size([3, 4]))
    with pytest.raises(ValueError, match=r"x must have size 4 in its last dimension, "
                                         r"got shape \(4, 3\)"):
        check_tensor("x", x, last_dim=4)
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        check_tensor("x", torch.tensor(1.0), last_dim=1)  # a 0-d tensor has none
    with pytest.raises(TypeError, match=r"x must have dtype torch.float64, got "
                                        r"torch.float32"):
        check_tensor("x", x, dtype=torch.float64)


def test_check_scalar_takes_a_number_or_a_0d_tensor():
    w0 = torch.tensor(0.5, requires_grad=True)
    assert check_scalar("w0", w0) is w0  # the tensor itself: gradients flow
    assert check_scalar("w0", 2) == 2.0
    with pytest.raises(ValueError, match=r"w0 must have 0 dimension\(s\)"):
        check_scalar("w0", torch.zeros(1))
    with pytest.raises(TypeError, match=r"w0 must be a real number, got str"):
        check_scalar("w0", "0.5")
    with pytest.raises(ValueError, match=r"w0 must lie in"):
        check_scalar("w0", float("nan"))


def test_check_ndim_names_the_shape():
    check_ndim("x", torch.zeros(2, 3), (2,))
    with pytest.raises(ValueError, match=r"x must have 1 or 2 dimension\(s\), got "
                                         r"shape \(\)"):
        check_ndim("x", torch.tensor(1.0), (1, 2))


@pytest.mark.parametrize("value", [float("nan"), -1.0, 2.0])
def test_check_number_refuses_values_outside_the_interval(value):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        check_number("p", value, low=0, high=1, high_open=True)


@pytest.mark.parametrize("value", [True, "0.5", None, torch.tensor(0.5)])
def test_check_number_refuses_non_numbers(value):
    with pytest.raises(TypeError, match=r"lr must be a real number"):
        check_number("lr", value)


def test_check_positive_int():
    assert check_positive_int("n", 3) == 3
    assert check_positive_int("n", 0, allow_zero=True) == 0
    with pytest.raises(ValueError, match=r"n must be > 0, got 0"):
        check_positive_int("n", 0)
    for bad in (2.0, True, None):
        with pytest.raises(TypeError, match=r"n must be an int"):
            check_positive_int("n", bad)


def test_check_same_shape():
    check_same_shape("a", torch.zeros(2, 3), "b", torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"a and b must have the same shape, got "
                                         r"\(2,\) and \(3,\)"):
        check_same_shape("a", torch.zeros(2), "b", torch.zeros(3))
    with pytest.raises(ValueError, match=r"a is empty"):
        check_same_shape("a", torch.zeros(0), "b", torch.zeros(0))
    with pytest.raises(TypeError, match=r"b must have a floating-point dtype"):
        check_same_shape("a", torch.zeros(2), "b", torch.zeros(2, dtype=torch.long))
