"""Linear recurrences: the parallel scan equals the loop, in fewer steps."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.scan import (
    GatedLinearRecurrence,
    check_recurrence,
    linear_recurrence,
    parallel_linear_recurrence,
)


def random_ab(batch, length, *rest, seed=0, low=-1.0):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, length, *rest)
    a = low + (1 - low) * torch.rand(shape, generator=gen, dtype=torch.float64)
    b = torch.randn(shape, generator=gen, dtype=torch.float64)
    return a, b


@pytest.mark.parametrize("length", [1, 2, 3, 5, 7, 8, 9, 31, 100, 128, 1000])
def test_scan_equals_loop(length):
    a, b = random_ab(3, length, 4, seed=length)
    h0 = torch.randn(3, 4, dtype=torch.float64)
    for init in (None, h0):
        loop = linear_recurrence(a, b, init)
        scan = parallel_linear_recurrence(a, b, init)
        torch.testing.assert_close(scan.h, loop.h)
        assert loop.steps == length
        assert scan.steps == math.ceil(math.log2(length))


def test_loop_matches_the_definition_by_hand():
    a = torch.tensor([[0.5, 2.0, -1.0]])
    b = torch.tensor([[1.0, 1.0, 3.0]])
    # h1 = 0.5*0 + 1 = 1, h2 = 2*1 + 1 = 3, h3 = -1*3 + 3 = 0
    assert linear_recurrence(a, b).h.tolist() == [[1.0, 3.0, 0.0]]
    assert parallel_linear_recurrence(a, b).h.tolist() == [[1.0, 3.0, 0.0]]


def test_special_cases_are_torch_scans():
    a, b = random_ab(2, 37, 3)
    ones = torch.ones_like(a)
    torch.testing.assert_close(parallel_linear_recurrence(ones, b).h, b.cumsum(1))
    first = torch.ones_like(a[:, 0])
    torch.testing.assert_close(parallel_linear_recurrence(a, torch.zeros_like(b),
                                                          first).h, a.cumprod(1))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70), st.integers(1, 3), st.integers(0, 10_000))
def test_scan_equals_loop_property(length, batch, seed):
    a, b = random_ab(batch, length, seed=seed)
    torch.testing.assert_close(parallel_linear_recurrence(a, b).h,
                               linear_recurrence(a, b).h)


def test_gradients_agree():
    a, b = random_ab(2, 23, 5)
    a.requires_grad_(True)
    b.requires_grad_(True)
    w = torch.randn(2, 23, 5, dtype=torch.float64)
    grads = [torch.autograd.grad((fn(a, b).h * w).sum(), (a, b))
             for fn in (linear_recurrence, parallel_linear_recurrence)]
    for ours, theirs in zip(*grads):
        torch.testing.assert_close(ours, theirs)


def test_any_trailing_shape_and_dtype_device_follow_input():
    a, b = random_ab(2, 6, 3, 2)
    scan = parallel_linear_recurrence(a.float(), b.float())
    assert scan.h.shape == (2, 6, 3, 2) and scan.h.dtype == torch.float32
    a2, b2 = random_ab(4, 9)  # (B, T): one number per step
    assert parallel_linear_recurrence(a2, b2).h.shape == (4, 9)


def test_inputs_are_not_modified():
    a, b = random_ab(2, 9, 3)
    a0, b0 = a.clone(), b.clone()
    parallel_linear_recurrence(a, b, torch.ones(2, 3, dtype=torch.float64))
    assert torch.equal(a, a0) and torch.equal(b, b0)


@pytest.mark.parametrize("fn", [linear_recurrence, parallel_linear_recurrence])
def test_misuse_shapes(fn):
    a, b = random_ab(2, 5, 3)
    with pytest.raises(ValueError, match="one shape"):
        fn(a, b[:, :4])
    with pytest.raises(ValueError, match="one shape"):
        fn(a[0, :, 0], b[0, :, 0])  # 1-d: no batch dimension
    with pytest.raises(ValueError, match="one shape"):
        fn(a[:, :0], b[:, :0])  # T = 0
    with pytest.raises(ValueError, match="h0 must have shape"):
        fn(a, b, torch.zeros(3))
    with pytest.raises(TypeError, match="a must be a torch.Tensor"):
        fn([[1.0]], b)
    with pytest.raises(TypeError, match="h0 must be a torch.Tensor"):
        check_recurrence(a, b, 0.0)


def test_gated_layer_scan_equals_loop_and_learns_shapes():
    torch.manual_seed(0)
    layer = GatedLinearRecurrence(4, 6).double()
    x = torch.randn(3, 17, 4, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (3, 17, 6)
    torch.testing.assert_close(out, layer(x, parallel=False))
    # from h_0 = 0 each state mixes 0 and the candidates so far: bounded by them
    bound = layer.candidate(x).abs().cummax(dim=1).values
    assert (out.abs() <= bound + 1e-12).all()
    (g,) = torch.autograd.grad(out.sum(), layer.gate.weight)
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    with pytest.raises(ValueError, match="hidden_size"):
        GatedLinearRecurrence(4, 0)
