import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.losses import (
    IGNORE_INDEX,
    binary_cross_entropy,
    check_class_indices,
    cross_entropy,
    logsumexp,
    mse,
    per_example_cross_entropy,
    sequence_accuracy,
    sequence_cross_entropy,
    softmax,
)

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
    (binary_cross_entropy, torch.tensor([0.5, 1.2]), torch.ones(2), r"p must be in"),
    (binary_cross_entropy, torch.tensor([-0.1, 0.5]), torch.ones(2), r"p must be in"),
    (binary_cross_entropy, torch.tensor([float("nan")]), torch.ones(1), "p must be in"),
    (binary_cross_entropy, torch.full((2,), 0.5), torch.tensor([0.0, 2.0]),
     r"y must be in"),
    (cross_entropy, torch.zeros(3, 4), torch.tensor([0, 4, 1]), r"\[0, 3\].*4\]"),
    (cross_entropy, torch.zeros(3, 4), torch.tensor([0, -1, 1]), r"\[-1,  0,  1\]"),
    (cross_entropy, torch.zeros(3, 4), torch.tensor([0, 1]),
     r"target must hold 3 .*\(2,\)"),
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


# --- misuse and edge cases ------------------------------------------------------------

def test_softmax_of_a_0d_tensor_is_0d_like_torch():
    z = torch.tensor(3.5, dtype=D)
    for dim in (0, -1):
        ours, theirs = softmax(z, dim), torch.softmax(z, dim)
        assert ours.shape == theirs.shape == ()
        torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(logsumexp(z), torch.logsumexp(z, 0))
    with pytest.raises(ValueError, match="dim=1"):
        softmax(z, dim=1)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1,
                max_size=6), st.sampled_from([0, -1]))
@settings(max_examples=150, deadline=None)
def test_softmax_and_logsumexp_match_torch_on_any_values(values, dim):
    z = torch.tensor(values, dtype=D)
    torch.testing.assert_close(softmax(z, dim), torch.softmax(z, dim), equal_nan=True)
    torch.testing.assert_close(logsumexp(z, dim), torch.logsumexp(z, dim),
                               equal_nan=True)


@pytest.mark.parametrize("shape, dim", [((2, 3, 4), 1), ((2, 3, 4), -3), ((0, 3), 1),
                                        ((5,), 0), ((2, 0, 3), 2)])
def test_softmax_and_logsumexp_along_any_dimension(shape, dim):
    z = torch.randn(shape, dtype=D)
    torch.testing.assert_close(softmax(z, dim), torch.softmax(z, dim))
    torch.testing.assert_close(logsumexp(z, dim), torch.logsumexp(z, dim))


@pytest.mark.parametrize("f", [softmax, logsumexp])
def test_softmax_and_logsumexp_misuse(f):
    with pytest.raises(TypeError, match="must be a torch.Tensor, got list"):
        f([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point"):
        f(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="dim=2"):
        f(torch.zeros(3, 4), 2)
    with pytest.raises(ValueError, match="dim=-1 .* \\(3, 0\\)"):
        f(torch.zeros(3, 0))  # differs from PyTorch (-inf): no entries to sum


def test_logsumexp_gradient_is_softmax_even_with_infinite_logits():
    z = torch.tensor([[1.0, 2.0, -float("inf")], [0.0, 0.0, 0.0]], dtype=D,
                     requires_grad=True)
    (grad,) = torch.autograd.grad(logsumexp(z).sum(), z)
    torch.testing.assert_close(grad, torch.softmax(z.detach(), dim=-1))


@pytest.mark.parametrize("f", [mse, binary_cross_entropy])
def test_zero_d_inputs_give_the_loss_of_one_prediction(f):
    p, y = torch.tensor(0.3, dtype=D), torch.tensor(1.0, dtype=D)
    theirs = {mse: F.mse_loss, binary_cross_entropy: F.binary_cross_entropy}[f]
    torch.testing.assert_close(f(p, y), theirs(p, y))


@pytest.mark.parametrize("f, name", [(mse, "y_hat"), (binary_cross_entropy, "p")])
@pytest.mark.parametrize("bad", [None, [0.5], (v for v in [0.5]), 0.5])
def test_losses_name_a_non_tensor_argument(f, name, bad):
    with pytest.raises(TypeError, match=f"{name} must be a torch.Tensor"):
        f(bad, torch.full((1,), 0.5))
    with pytest.raises(TypeError, match="y must be a torch.Tensor"):
        f(torch.full((1,), 0.5), bad)


def test_mse_propagates_nan_and_inf_like_torch():
    y_hat = torch.tensor([float("nan"), 1.0, float("inf")])
    y = torch.tensor([0.0, 1.0, 0.0])
    torch.testing.assert_close(mse(y_hat, y), F.mse_loss(y_hat, y), equal_nan=True)
    assert mse(y_hat[1:], y[1:]).item() == float("inf")


def test_mse_rejects_integer_targets_and_broadcasting():
    with pytest.raises(TypeError, match="y must have a floating"):
        mse(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"same shape.*\(3, 1\) and \(3,\)"):
        mse(torch.zeros(3, 1), torch.zeros(3))  # would broadcast to (3, 3)


def test_bce_names_which_argument_left_the_unit_interval():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got "
                                         r"-2.3\.\.2.3"):
        binary_cross_entropy(torch.tensor([2.3, -2.3]), torch.ones(2))
    with pytest.raises(ValueError, match="y must be in"):
        binary_cross_entropy(torch.full((2,), 0.5), torch.tensor([1.0, float("inf")]))


@pytest.mark.parametrize("logits, target, error, match", [
    ([[0.0, 1.0]], torch.tensor([0]), TypeError, "logits must be a torch.Tensor"),
    (torch.zeros(2, 3), [0, 1], TypeError, "target must hold integer.*list"),
    (torch.zeros(2, 3), None, TypeError, "target must hold integer.*NoneType"),
    (torch.zeros(2, 3), torch.tensor([0, 1], dtype=torch.int32), TypeError,
     "int64.*torch.int32"),
    (torch.zeros(2, 3), torch.tensor([True, False]), TypeError, "torch.bool"),
    (torch.zeros(2, 3), torch.tensor(1), ValueError, r"got \(\)"),
    (torch.zeros(2, 3), torch.tensor([[0], [1]]), ValueError, r"\(2, 1\)"),
    (torch.zeros(3), torch.tensor(0), ValueError, "logits must have 2"),
    (torch.zeros(2, 3, 4), torch.zeros(2, dtype=torch.long), ValueError,
     "logits must have 2"),
    (torch.zeros(2, 0), torch.zeros(2, dtype=torch.long), ValueError, r"\[0, -1\]"),
])
def test_cross_entropy_misuse(logits, target, error, match):
    for f in (cross_entropy, per_example_cross_entropy):
        with pytest.raises(error, match=match):
            f(logits, target)


def test_cross_entropy_with_nan_and_infinite_logits():
    logits = torch.tensor([[float("nan"), 0.0], [-float("inf"), 0.0],
                           [float("inf"), 0.0], [float("inf"), 0.0]], dtype=D)
    target = torch.tensor([0, 1, 0, 1])
    ours = per_example_cross_entropy(logits, target)
    theirs = F.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(ours[:3], theirs[:3], equal_nan=True)
    # an infinitely confident wrong answer costs inf (PyTorch gives NaN there)
    assert ours[3].item() == float("inf") and theirs[3].isnan()


def _seq(B=2, T=3, C=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, C, generator=g, dtype=D)
    y = torch.randint(0, C, (B, T), generator=g)
    return logits, y


def test_sequence_losses_skip_ignored_steps_and_match_torch():
    logits, y = _seq()
    y[0, 1] = IGNORE_INDEX
    keep = y != IGNORE_INDEX
    torch.testing.assert_close(sequence_cross_entropy(logits, y),
                               F.cross_entropy(logits[keep], y[keep]))
    expected = (logits.argmax(-1) == y)[keep].double().mean().item()
    assert sequence_accuracy(logits, y) == pytest.approx(expected)


def test_sequence_losses_with_every_step_ignored_are_nan_like_torch():
    logits, y = _seq()
    y[:] = IGNORE_INDEX
    assert math.isnan(sequence_cross_entropy(logits, y).item())
    assert math.isnan(sequence_accuracy(logits, y))


@pytest.mark.parametrize("f", [sequence_cross_entropy, sequence_accuracy])
def test_sequence_losses_misuse(f):
    logits, y = _seq()
    with pytest.raises(TypeError, match="logits must be a torch.Tensor"):
        f(logits.tolist(), y)
    with pytest.raises(TypeError, match="y must be a torch.Tensor"):
        f(logits, None)
    with pytest.raises(TypeError, match="y must hold int64"):
        f(logits, y.float())
    with pytest.raises(ValueError, match=r"\(B, T, C\)"):
        f(logits[0], y[0])
    with pytest.raises(ValueError, match=r"\(B, T, C\)"):
        f(logits, y[:, :2])
    y[1, 2] = 4
    with pytest.raises(ValueError, match=r"\[0, 3\] or -100, got 4"):
        f(logits, y)


def test_check_class_indices_names_the_argument():
    check_class_indices("labels", torch.tensor([0, 2, 1]), 3, 3)  # fine: no error
    with pytest.raises(TypeError, match="labels must hold integer.*torch.float32"):
        check_class_indices("labels", torch.tensor([0.0, 1.0]), 2, 3)
    with pytest.raises(ValueError, match=r"labels must hold 2 class indices in \[0, 2"):
        check_class_indices("labels", torch.tensor([0, 3]), 2, 3)
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        check_class_indices("labels", torch.tensor([0, 1, 2]), 2, 3)


def test_per_example_cross_entropy_of_an_empty_batch_is_empty_like_torch():
    logits, target = torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64)
    ours = per_example_cross_entropy(logits, target)
    assert ours.shape == F.cross_entropy(logits, target, reduction="none").shape == (0,)
    with pytest.raises(ValueError, match="empty: the mean of no losses"):
        cross_entropy(logits, target)  # PyTorch returns NaN here
