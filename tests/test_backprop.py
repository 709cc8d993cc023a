import math
import operator

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.backprop import (Value, bce_with_logits, draw_graph,
                              finite_difference_errors, layer_tensors, mlp, mlp_torch,
                              neuron_graph, numerical_gradient, parameters,
                              plot_finite_difference_errors, train_values,
                              two_layer_backprop, values_from_linear, zero_grad)

F = torch.nn.functional
f64 = torch.float64
finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
nonzero = finite.filter(lambda v: abs(v) > 0.1)
BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]


def _torch_pair(a, b):
    return (torch.tensor(a, dtype=f64, requires_grad=True),
            torch.tensor(b, dtype=f64, requires_grad=True))


@settings(max_examples=40, deadline=None)
@given(a=finite, b=nonzero, op=st.sampled_from(BINARY))
def test_binary_operators_match_torch(a, b, op):
    x, y = Value(a), Value(b)
    out = op(x, y) * x  # x is used twice: gradients must accumulate
    out.backward()
    tx, ty = _torch_pair(a, b)
    expected = op(tx, ty) * tx
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-9, abs=1e-9)
    assert y.grad == pytest.approx(ty.grad.item(), rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(a=nonzero, c=nonzero, op=st.sampled_from(BINARY))
def test_numbers_on_either_side(a, c, op):
    for build in (lambda v: op(v, c), lambda v: op(c, v)):
        x = Value(a)
        out = build(x)
        out.backward()
        tx = torch.tensor(a, dtype=f64, requires_grad=True)
        expected = build(tx)
        expected.backward()
        assert isinstance(out, Value)
        assert out.data == pytest.approx(expected.item(), rel=1e-12)
        assert x.grad == pytest.approx(tx.grad.item(), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(a=finite, name=st.sampled_from(["exp", "tanh", "relu", "sigmoid", "neg"]))
def test_unary_functions_match_torch(a, name):
    x = Value(a)
    out = -x if name == "neg" else getattr(x, name)()
    (out * 1.5).backward()
    tx = torch.tensor(a, dtype=f64, requires_grad=True)
    expected = -tx if name == "neg" else getattr(torch, name)(tx)
    (expected * 1.5).backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-15)
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-9, abs=1e-15)


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0.05, 20), k=st.floats(-3, 3))
def test_log_and_real_powers_match_torch(a, k):
    x = Value(a)
    out = x.log() + x ** k
    out.backward()
    tx = torch.tensor(a, dtype=f64, requires_grad=True)
    (torch.log(tx) + tx ** k).backward()
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("a, k", [(-2.0, 3), (-1.5, 2), (3.0, 0), (0.0, 2), (-2.0, -1)])
def test_integer_powers_of_any_sign(a, k):
    x = Value(a)
    (x ** k).backward()
    tx = torch.tensor(a, dtype=f64, requires_grad=True)
    (tx ** k).backward()
    assert x.grad == pytest.approx(tx.grad.item())


def test_sqrt_at_zero_has_infinite_slope_like_torch():
    x = Value(0.0)
    (x ** 0.5).backward()
    assert x.grad == math.inf


def test_reused_node_accumulates_over_all_paths():
    x = Value(3.0)
    a = x * x  # two edges from x
    b = a + x  # and a third
    c = b * a  # a is used twice as well
    c.backward()
    # c = (x^2 + x) x^2 = x^4 + x^3, dc/dx = 4 x^3 + 3 x^2
    assert c.data == 108.0 and x.grad == 4 * 27 + 3 * 9
    assert a.grad == pytest.approx(b.data + a.data)  # dc/da = b + a (via b)


def test_backward_twice_accumulates_into_inputs_only():
    x = Value(2.0)
    y = (x * x).tanh()
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == pytest.approx(2 * first)  # inputs accumulate, as in PyTorch
    zero_grad([x])
    y.backward()
    assert x.grad == pytest.approx(first)  # interior nodes were not double-counted


def test_deep_graphs_do_not_hit_the_recursion_limit():
    x = Value(1.0)
    total = sum((x * 0.001 for _ in range(5000)), Value(0.0))
    total.backward()
    assert x.grad == pytest.approx(5.0)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="data must be a real number"):
        Value("1.0")
    with pytest.raises(TypeError, match="data must be a real number"):
        Value(True)
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** 0.5
    with pytest.raises(ValueError, match="log needs a positive number"):
        Value(-1.0).log()
    assert Value(1000.0).exp().data == math.inf  # overflows like torch.exp


def test_bce_with_logits_matches_torch_including_extremes():
    for z, y in [(-50.0, 1.0), (-2.0, 0.0), (0.0, 1.0), (0.7, 0.0), (50.0, 0.0)]:
        v = Value(z)
        loss = bce_with_logits(v, y)
        loss.backward()
        tz = torch.tensor(z, dtype=f64, requires_grad=True)
        expected = F.binary_cross_entropy_with_logits(tz, torch.tensor(y, dtype=f64))
        expected.backward()
        assert loss.data == pytest.approx(expected.item(), rel=1e-12)
        assert v.grad == pytest.approx(tz.grad.item(), rel=1e-9, abs=1e-15)


def _network(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                              torch.nn.Linear(4, 2)).double()
    return net, [values_from_linear(net[0]), values_from_linear(net[2])]


def test_value_network_matches_torch_forward_and_gradients():
    net, layers = _network()
    X = torch.randn(5, 3, dtype=f64)
    y = torch.tensor([0, 1, 1, 0, 1])
    loss = sum(-(mlp(x, layers)[c] - sum(o.exp() for o in mlp(x, layers)).log())
               for x, c in zip(X.tolist(), y.tolist())) / len(X)
    loss.backward()
    expected = F.cross_entropy(net(X), y)
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), rel=1e-12)
    torch.testing.assert_close(mlp_torch(X, layers), net(X))
    for layer, linear in zip(layers, (net[0], net[2])):
        weight_grad, bias_grad = layer_tensors(layer, "grad")
        torch.testing.assert_close(weight_grad, linear.weight.grad)
        torch.testing.assert_close(bias_grad, linear.bias.grad)
    assert len(parameters(layers)) == sum(p.numel() for p in net.parameters())


def test_mlp_and_layer_tensors_validate():
    _, layers = _network()
    with pytest.raises(ValueError, match="layer 0 expects 3 inputs, got 2"):
        mlp([1.0, 2.0], layers)
    with pytest.raises(ValueError, match="activation"):
        mlp([1.0, 2.0, 3.0], layers, activation="gelu")
    with pytest.raises(ValueError, match="attr"):
        layer_tensors(layers[0], "value")


def test_engine_trains_a_tiny_network_on_xor():
    X = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    y = [0.0, 1.0, 1.0, 0.0]
    torch.manual_seed(1)
    layers = [values_from_linear(torch.nn.Linear(2, 4)),
              values_from_linear(torch.nn.Linear(4, 1))]
    losses = train_values(parameters(layers),
                          lambda: sum(bce_with_logits(mlp(x, layers)[0], t)
                                      for x, t in zip(X, y)) / 4, lr=0.5, num_steps=300)
    assert losses[0] > 0.6 and losses[-1] < 0.1
    assert [mlp(x, layers)[0].data > 0 for x in X] == [False, True, True, False]
    with pytest.raises(ValueError, match="lr"):
        train_values(parameters(layers), lambda: Value(0.0), lr=-1.0, num_steps=1)


def _two_layer_params(seed=0, d=6, H=5, C=3):
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(*s, generator=g, dtype=f64)
            for k, s in (("W1", (H, d)), ("b1", (H,)), ("W2", (C, H)), ("b2", (C,)))}


def test_two_layer_backprop_matches_autograd_and_finite_differences():
    params = _two_layer_params()
    g = torch.Generator().manual_seed(1)
    X = torch.randn(7, 6, generator=g, dtype=f64)
    y = torch.randint(0, 3, (7,), generator=g)
    loss, grads = two_layer_backprop(X, y, **params)
    leaves = {k: p.clone().requires_grad_(True) for k, p in params.items()}
    hidden = torch.tanh(X @ leaves["W1"].T + leaves["b1"])
    expected = F.cross_entropy(hidden @ leaves["W2"].T + leaves["b2"], y)
    expected.backward()
    torch.testing.assert_close(loss, expected)
    for k in params:
        assert grads[k].shape == params[k].shape
        torch.testing.assert_close(grads[k], leaves[k].grad)
        fd = numerical_gradient(
            lambda p, k=k: two_layer_backprop(X, y, **{**params, k: p})[0], params[k])
        torch.testing.assert_close(grads[k], fd, rtol=1e-6, atol=1e-8)


def test_two_layer_backprop_rejects_mismatched_shapes():
    params = _two_layer_params()
    params["W2"] = params["W2"][:, :4]
    with pytest.raises(ValueError, match="shapes do not fit"):
        two_layer_backprop(torch.zeros(2, 6, dtype=f64),
                           torch.zeros(2, dtype=torch.long), **params)


def test_numerical_gradient_contract():
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=f64)
    fd = numerical_gradient(lambda t: (t ** 3).sum(), x)
    torch.testing.assert_close(fd, 3 * x ** 2, rtol=1e-6, atol=1e-6)
    assert x.tolist() == [[1.0, -2.0], [0.5, 3.0]]  # not modified
    with pytest.raises(ValueError, match="h must lie"):
        numerical_gradient(lambda t: t.sum(), x, h=0.0)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        numerical_gradient(lambda t: t, [1.0])


def test_finite_difference_error_is_v_shaped():
    x = torch.tensor([0.3, -1.2], dtype=f64)
    exact = torch.cos(x)
    hs = [1e-12, 1e-6, 1e-1]
    errors = finite_difference_errors(lambda t: torch.sin(t).sum(), x, exact, hs)
    assert errors[1] < errors[0] and errors[1] < errors[2]
    assert len(plot_finite_difference_errors(hs, errors).axes) == 1


def test_graph_diagram_shows_values_gradients_and_local_derivatives():
    L = neuron_graph()
    L.backward()
    texts = [t.get_text() for t in draw_graph(L).axes[0].texts]
    assert "$w_1$" in texts and "$L$ (**2)" in texts
    assert f"{L.data:.3g}" in texts and "1" in texts  # L's value and dL/dL
    nodes = {v.label: v for v in L.topological_order()}
    assert f"{nodes['w_2'].grad:.3g}" in texts
    y_hat = nodes[r"\hat{y}"]
    assert f"{y_hat.local_grads[0]:.3g}" in texts
