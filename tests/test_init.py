"""introdl.init against torch.nn.init: the same numbers from the same generator
state, the distributions the rules promise, and clear errors on misuse."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from introdl.init import (
    calculate_gain,
    fan_in_and_fan_out,
    kaiming_normal_,
    kaiming_uniform_,
    xavier_normal_,
    xavier_uniform_,
)
from introdl.layers import Dense

SHAPES = [(30, 50), (50, 30), (1, 1), (7, 3, 2, 2), (4, 5, 3)]
NONLINEARITIES = ["linear", "sigmoid", "tanh", "relu"]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    w = torch.empty(shape)
    assert fan_in_and_fan_out(w) == nn.init._calculate_fan_in_and_fan_out(w)


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_gains_match_torch(name):
    assert calculate_gain(name) == nn.init.calculate_gain(name)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, 5 / 3, math.sqrt(2.0), 0.25])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_xavier_equals_torch_exactly(shape, gain, dtype):
    for ours, theirs in ((xavier_uniform_, nn.init.xavier_uniform_),
                         (xavier_normal_, nn.init.xavier_normal_)):
        a = ours(torch.empty(shape, dtype=dtype), gain, generator=gen(3))
        b = theirs(torch.empty(shape, dtype=dtype), gain, generator=gen(3))
        assert torch.equal(a, b)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NONLINEARITIES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_equals_torch_exactly(shape, name, mode):
    for ours, theirs in ((kaiming_uniform_, nn.init.kaiming_uniform_),
                         (kaiming_normal_, nn.init.kaiming_normal_)):
        a = ours(torch.empty(shape), calculate_gain(name), mode, generator=gen(1))
        b = theirs(torch.empty(shape), mode=mode, nonlinearity=name, generator=gen(1))
        assert torch.equal(a, b)


def test_kaiming_default_gain_is_torchs_default_and_relu():
    for ours, theirs in ((kaiming_uniform_, nn.init.kaiming_uniform_),
                         (kaiming_normal_, nn.init.kaiming_normal_)):
        a = ours(torch.empty(20, 40), generator=gen())
        assert torch.equal(a, theirs(torch.empty(20, 40), generator=gen()))
        assert torch.equal(a, theirs(torch.empty(20, 40), nonlinearity="relu",
                                     generator=gen()))


def test_nn_linear_default_is_kaiming_uniform_with_gain_one_over_sqrt3():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        linear = nn.Linear(50, 30)  # draws its weight first, from the global RNG
    ours = kaiming_uniform_(torch.empty(30, 50), math.sqrt(1 / 3), generator=gen(5))
    assert torch.equal(ours, linear.weight.detach())
    assert ours.abs().max() <= 1 / math.sqrt(50)


def test_dense_uses_the_same_bound_as_nn_linear():
    w = Dense(400, 300, generator=gen()).weight.detach()
    bound = 1 / math.sqrt(400)
    assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound
    torch.testing.assert_close(w.std().item(), bound / math.sqrt(3), rtol=0.02, atol=0)


@pytest.mark.parametrize("fill, expected_std", [
    (lambda w: xavier_uniform_(w, 2.0, generator=gen()), 2 * math.sqrt(2 / 700)),
    (lambda w: xavier_normal_(w, 2.0, generator=gen()), 2 * math.sqrt(2 / 700)),
    (lambda w: kaiming_uniform_(w, generator=gen()), math.sqrt(2 / 400)),
    (lambda w: kaiming_normal_(w, generator=gen()), math.sqrt(2 / 400)),
    (lambda w: kaiming_normal_(w, 1.0, "fan_out", generator=gen()), 1 / math.sqrt(300)),
])
def test_distributions_have_the_promised_std(fill, expected_std):
    w = fill(torch.empty(300, 400))  # fan_in 400, fan_out 300
    assert abs(w.mean().item()) < 0.02 * expected_std  # 120,000 draws: sd 0.003 std
    torch.testing.assert_close(w.std().item(), expected_std, rtol=0.01, atol=0)


def test_uniform_rules_respect_their_bound():
    w = xavier_uniform_(torch.empty(300, 400), generator=gen())
    bound = math.sqrt(6 / 700)
    assert w.abs().max() <= bound and w.abs().max() > 0.999 * bound


def test_same_generator_state_same_weights_and_global_rng_untouched():
    state = torch.get_rng_state()
    a = kaiming_normal_(torch.empty(10, 10), generator=gen(7))
    b = kaiming_normal_(torch.empty(10, 10), generator=gen(7))
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)
    g = gen(7)
    first, second = (xavier_normal_(torch.empty(10, 10), generator=g) for _ in range(2))
    assert not torch.equal(first, second)  # the generator advances


def test_fills_a_parameter_in_place_and_keeps_it_trainable():
    layer = nn.Linear(8, 4)
    out = kaiming_uniform_(layer.weight, generator=gen())
    assert out is layer.weight and layer.weight.requires_grad
    assert layer.weight.grad_fn is None  # no autograd history from the fill


@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from(NONLINEARITIES),
       st.integers(0, 2**31))
@settings(max_examples=60, deadline=None)
def test_any_shape_and_seed_match_torch(m_out, m_in, name, seed):
    a = kaiming_normal_(torch.empty(m_out, m_in), calculate_gain(name), "fan_out",
                        generator=gen(seed))
    b = nn.init.kaiming_normal_(torch.empty(m_out, m_in), mode="fan_out",
                                nonlinearity=name, generator=gen(seed))
    assert torch.equal(a, b)


# --- misuse -----------------------------------------------------------------------

ALL = [xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_]


@pytest.mark.parametrize("f", ALL)
def test_misuse_of_the_weight_raises_naming_it(f):
    with pytest.raises(TypeError, match="weight must be a torch.Tensor, got list"):
        f([[0.0, 1.0]])
    with pytest.raises(TypeError, match="weight must have a floating-point dtype"):
        f(torch.zeros(3, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"weight must be \(out, in, \.\.\.\).*\(5,\)"):
        f(torch.zeros(5))  # a bias: it has no fan-in
    with pytest.raises(ValueError, match=r"got \(0, 4\)"):
        f(torch.zeros(0, 4))  # torch only warns and does nothing
    with pytest.raises(ValueError, match=r"got \(\)"):
        f(torch.tensor(1.0))


@pytest.mark.parametrize("f", ALL)
@pytest.mark.parametrize("gain, error", [(0.0, ValueError), (-1.0, ValueError),
                                         (float("nan"), ValueError), (True, TypeError),
                                         ("relu", TypeError), (None, TypeError)])
def test_bad_gains_raise(f, gain, error):
    w = torch.zeros(3, 4)
    with pytest.raises(error, match="gain"):
        f(w, gain)
    assert torch.equal(w, torch.zeros(3, 4))  # nothing was written


@pytest.mark.parametrize("f", [kaiming_uniform_, kaiming_normal_])
def test_bad_mode_raises_before_writing(f):
    w = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="'fan_in' or 'fan_out', got 'in'"):
        f(w, mode="in")
    assert torch.equal(w, torch.zeros(3, 4))


def test_unknown_nonlinearity_raises_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"one of \['linear', 'relu'.*got 'gelu'"):
        calculate_gain("gelu")
    with pytest.raises(ValueError, match="got 'ReLU'"):
        calculate_gain("ReLU")  # a class name, not the function name


def test_a_seed_in_place_of_a_generator_is_a_type_error():
    with pytest.raises(TypeError, match="generator"):
        xavier_normal_(torch.empty(3, 4), generator=0)
