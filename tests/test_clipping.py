"""Tests of gradient clipping by global norm (introdl.training.clip_grad_norm)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.training import clip_grad_norm, fit


def _twins(seed=0, scale=5.0, dtype=torch.float64):
    """Two identical lists of parameters with identical random gradients."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    a = [torch.randn(s, generator=g, dtype=dtype, requires_grad=True) for s in shapes]
    b = [p.detach().clone().requires_grad_() for p in a]
    for p, q in zip(a, b):
        p.grad = scale * torch.randn(p.shape, generator=g, dtype=dtype)
        q.grad = p.grad.clone()
    return a, b


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e6])
def test_norm_and_scaling_match_torch(max_norm):
    ours, theirs = _twins()
    norm = clip_grad_norm(ours, max_norm)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    torch.testing.assert_close(norm, expected)
    for p, q in zip(ours, theirs):
        torch.testing.assert_close(p.grad, q.grad)


def test_clipping_keeps_the_direction_and_caps_the_length():
    ours, _ = _twins(scale=10.0)
    before = torch.cat([p.grad.flatten() for p in ours]).clone()
    norm = clip_grad_norm(ours, 1.0)
    after = torch.cat([p.grad.flatten() for p in ours])
    torch.testing.assert_close(norm, before.norm())
    torch.testing.assert_close(after.norm(), torch.tensor(1.0, dtype=after.dtype),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(after / after.norm(), before / before.norm())


def test_small_gradients_are_left_alone():
    ours, _ = _twins(scale=1e-3)
    before = [p.grad.clone() for p in ours]
    clip_grad_norm(ours, 1.0)
    for p, b in zip(ours, before):
        torch.testing.assert_close(p.grad, b)


def test_single_tensor_generator_and_missing_grads():
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.tensor([3.0, 0.0, 4.0])
    torch.testing.assert_close(clip_grad_norm(p, 1.0), torch.tensor(5.0))
    torch.testing.assert_close(p.grad, torch.tensor([0.6, 0.0, 0.8]), atol=1e-6,
                               rtol=0)
    model = torch.nn.Linear(3, 2)
    model(torch.randn(4, 3)).sum().backward()
    model.bias.grad = None  # parameters without gradients are skipped
    expected = model.weight.grad.norm()
    torch.testing.assert_close(clip_grad_norm(model.parameters(), 1e9), expected)
    assert clip_grad_norm([torch.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_infinite_max_norm_never_clips():
    ours, _ = _twins(scale=1e6)
    before = [p.grad.clone() for p in ours]
    clip_grad_norm(ours, math.inf)
    for p, b in zip(ours, before):
        torch.testing.assert_close(p.grad, b)


@pytest.mark.parametrize("max_norm, error", [(0.0, ValueError), (-1.0, ValueError),
                                             ("1", TypeError)])
def test_bad_max_norm_is_rejected(max_norm, error):
    ours, _ = _twins()
    with pytest.raises(error, match="max_norm"):
        clip_grad_norm(ours, max_norm)


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(1e-4, 1e4), max_norm=st.floats(1e-3, 1e3))
def test_clipped_norm_is_the_smaller_of_norm_and_max_norm(scale, max_norm):
    ours, _ = _twins(scale=scale)
    norm = clip_grad_norm(ours, max_norm).item()
    after = math.sqrt(sum(p.grad.pow(2).sum().item() for p in ours))
    # the 1e-6 that guards against dividing by 0 shortens clipped norms by <= 1e-6
    assert after == pytest.approx(min(norm, max_norm), rel=1e-6, abs=2e-6)


def test_fit_clips_every_step():
    """With clip_norm, each update of plain SGD moves the weights by at most
    lr * clip_norm; fit records the norms before clipping."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(32, 3, generator=g), 100 * torch.randn(32, 1, generator=g)
    model = torch.nn.Linear(3, 1)
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    history = fit(model, (X, y), loss_fn=torch.nn.functional.mse_loss,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=1,
                  clip_norm=0.5)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm() <= 0.1 * 0.5 + 1e-6
    assert history.grad_norm[0] > 0.5
