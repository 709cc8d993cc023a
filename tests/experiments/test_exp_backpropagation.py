import math

import pytest
import torch

from introdl.autograd import Value, two_layer_backprop
from introdl.experiments.backpropagation import (
    DepthSignal,
    finite_difference_errors,
    init_comparison,
    init_rules,
    neuron_graph,
    signal_through_depth,
    train_two_layer,
)

f64 = torch.float64


def test_neuron_graph_is_the_squared_error_of_a_tanh_neuron():
    L = neuron_graph()
    expected = (torch.tanh(torch.tensor(2.0 * 0.4 - 1.0 * 0.3 + 0.2)) - 1.0) ** 2
    assert isinstance(L, Value) and L.data == pytest.approx(expected.item())
    labels = {v.label for v in L.topological_order()}
    assert {"x_1", "w_2", "b", "s", "z", r"\hat{y}", "e", "L"} <= labels


def test_finite_difference_error_is_v_shaped():
    x = torch.tensor([0.3, -1.2], dtype=f64)
    exact = torch.cos(x)
    hs = [1e-12, 1e-6, 1e-1]
    errors = finite_difference_errors(lambda t: torch.sin(t).sum(), x, exact, hs)
    assert errors[1] < errors[0] and errors[1] < errors[2]
    assert errors.dtype == f64 and errors.shape == (3,)


def test_finite_difference_errors_misuse():
    x = torch.zeros(2, dtype=f64)
    with pytest.raises(ValueError, match=r"exact must have x's shape \(2,\)"):
        finite_difference_errors(lambda t: t.sum(), x, torch.zeros(3, dtype=f64),
                                 [1e-3])
    with pytest.raises(ValueError, match="h must lie"):
        finite_difference_errors(lambda t: t.sum(), x, torch.ones(2, dtype=f64), [0.0])
    assert finite_difference_errors(lambda t: t.sum(), x, torch.ones(2, dtype=f64),
                                    iter([1e-3])).shape == (1,)


# --- where to start: symmetry and scale -------------------------------------------

def _two_layer_data(n=20, d=6, C=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g, dtype=f64),
            torch.randint(0, C, (n,), generator=g))


def _params(H, d, C, fill=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = {"W1": (H, d), "b1": (H,), "W2": (C, H), "b2": (C,)}
    if fill is not None:
        return {k: torch.full(s, fill, dtype=f64) for k, s in shapes.items()}
    return {k: 0.3 * torch.randn(s, generator=g, dtype=f64) for k, s in shapes.items()}


def test_train_two_layer_is_gradient_descent_with_the_hand_derived_gradients():
    X, y = _two_layer_data()
    start = _params(4, 6, 3)
    trained, losses = train_two_layer(X, y, start, lr=0.3, num_steps=2)
    loss0, g0 = two_layer_backprop(X, y, **start)
    step1 = {k: p - 0.3 * g0[k] for k, p in start.items()}
    loss1, g1 = two_layer_backprop(X, y, **step1)
    for k in start:
        torch.testing.assert_close(trained[k], step1[k] - 0.3 * g1[k])
    assert losses == [loss0.item(), loss1.item()]
    assert torch.equal(start["W1"], _params(4, 6, 3)["W1"])  # the start is unchanged


def test_an_equal_start_keeps_the_hidden_units_equal_and_a_random_one_does_not():
    X, y = _two_layer_data()
    equal, _ = train_two_layer(X, y, _params(5, 6, 3, fill=0.1), lr=0.5, num_steps=50)
    assert (equal["W1"] - equal["W1"][0]).abs().max() < 1e-12
    assert (equal["W2"] - equal["W2"][:, :1]).abs().max() < 1e-12
    zero, losses = train_two_layer(X, y, _params(5, 6, 3, fill=0.0), lr=0.5,
                                   num_steps=20)
    assert zero["W1"].abs().max() == 0 and zero["W2"].abs().max() == 0  # only b2 moves
    assert zero["b2"].abs().max() > 0 and losses[-1] < losses[0]
    random, _ = train_two_layer(X, y, _params(5, 6, 3), lr=0.5, num_steps=50)
    assert (random["W1"] - random["W1"][0]).abs().max() > 0.1


def test_train_two_layer_misuse():
    X, y = _two_layer_data()
    with pytest.raises(ValueError, match="num_steps must be > 0"):
        train_two_layer(X, y, _params(2, 6, 3), lr=0.1, num_steps=0)
    with pytest.raises(ValueError, match="lr must lie"):
        train_two_layer(X, y, _params(2, 6, 3), lr=-0.1, num_steps=1)
    with pytest.raises(KeyError):
        train_two_layer(X, y, {"W1": torch.zeros(2, 6, dtype=f64)}, lr=0.1, num_steps=1)


def test_he_keeps_a_deep_relu_networks_signal_and_small_weights_lose_it():
    rules = init_rules("relu")
    he = signal_through_depth("relu", rules["He, with the activation's gain"], depth=12,
                              width=64, batch_size=64)
    assert isinstance(he, DepthSignal)
    assert len(he.forward_std) == len(he.backward_std) == 12
    assert all(0.2 < v < 5 for v in he.forward_std + he.backward_std)
    small = signal_through_depth("relu", init_rules("relu")["too small, 0.5/\u221an"],
                                 depth=12, width=64, batch_size=64)
    assert small.forward_std[-1] < 1e-4 * small.forward_std[0]
    assert small.backward_std[0] < 1e-4 * small.backward_std[-1]
    large = signal_through_depth("tanh", init_rules("tanh")["too large, 3/\u221an"],
                                 depth=12, width=64, batch_size=64)
    assert max(large.forward_std) < 1  # tanh saturates ...
    assert large.backward_std[0] > 10 * large.backward_std[-1]  # ... the gradient grows


def test_the_top_gradient_has_unit_scale_and_runs_are_seeded():
    rule = init_rules("tanh")["Xavier"]
    a = signal_through_depth("tanh", rule, depth=4, width=32, batch_size=128, seed=3)
    b = signal_through_depth("tanh", rule, depth=4, width=32, batch_size=128, seed=3)
    assert a == b
    assert a.backward_std[-1] == pytest.approx(1.0, abs=0.05)


def test_init_rules_draw_the_scales_they_promise():
    n = 400
    expected = {"too small, 0.5/\u221an": 0.5, "nn.Linear's default": 1 / math.sqrt(3),
                "Xavier": 1.0, "He, with the activation's gain": math.sqrt(2),
                "too large, 3/\u221an": 3.0}
    rules = init_rules("relu")
    assert list(rules) == list(expected)
    for name, c in expected.items():
        w = rules[name](torch.empty(n, n), torch.Generator().manual_seed(0))
        assert w.std().item() == pytest.approx(c / math.sqrt(n), rel=0.02)
    w = init_rules("tanh")["He, with the activation's gain"](torch.empty(n, n),
                                                             torch.Generator())
    assert w.std().item() == pytest.approx(5 / 3 / math.sqrt(n), rel=0.02)
    with pytest.raises(ValueError, match="nonlinearity"):
        init_rules("gelu")


def test_init_comparison_covers_every_activation_and_rule():
    demo = init_comparison(("tanh",), depth=3, width=16, batch_size=8)
    assert list(demo) == ["tanh"] and list(demo["tanh"]) == list(init_rules("tanh"))
    assert all(len(r.forward_std) == 3 for r in demo["tanh"].values())


def test_signal_through_depth_misuse():
    rule = init_rules("relu")["Xavier"]
    with pytest.raises(ValueError, match="activation must be 'tanh' or 'relu'"):
        signal_through_depth("sigmoid", rule)
    with pytest.raises(ValueError, match="depth must be > 0"):
        signal_through_depth("relu", rule, depth=0)
