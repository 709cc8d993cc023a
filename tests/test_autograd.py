import math
import operator

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.autograd import (
    Value,
    bce_with_logits,
    layer_tensors,
    mlp,
    mlp_torch,
    numerical_gradient,
    parameters,
    train_values,
    two_layer_backprop,
    values_from_linear,
    zero_grad,
)

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
    with pytest.raises(ValueError, match="log's input must lie in"):
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


# --- misuse ----------------------------------------------------------------------

def test_value_takes_python_numbers_only():
    assert Value(3).data == 3.0 and isinstance(Value(3).data, float)
    for bad in (None, torch.tensor(1.0), [1.0], "2"):
        with pytest.raises(TypeError, match="data must be a real number"):
            Value(bad)
    with pytest.raises(TypeError, match="data must be a real number, got str"):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="data must be a real number, got NoneType"):
        None * Value(1.0)


def test_value_parents_and_local_grads_must_match():
    x = Value(1.0)
    with pytest.raises(ValueError, match="one local gradient per parent"):
        Value(2.0, (x,), ())
    with pytest.raises(AttributeError, match="'float' object has no attribute"):
        Value(2.0, (1.0,), (1.0,)).backward()  # parents must be Values
    y = Value(2.0, iter([x]), iter([3.0]))  # generators are kept as tuples
    y.backward()
    assert x.grad == 3.0


def test_nan_and_inf_flow_through_like_torch():
    for name in ("tanh", "sigmoid", "relu", "exp"):
        for v in (float("nan"), float("inf"), -float("inf")):
            x = Value(v)
            out = getattr(x, name)()
            out.backward()
            t = torch.tensor(v, dtype=f64, requires_grad=True)
            expected = getattr(torch, name)(t)
            expected.backward()
            torch.testing.assert_close(torch.tensor(out.data, dtype=f64),
                                       expected.detach(), equal_nan=True)
            torch.testing.assert_close(torch.tensor(x.grad, dtype=f64), t.grad,
                                       equal_nan=True)


def test_python_arithmetic_errors_where_torch_gives_inf():
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match=r"input must lie in \(0, inf\], got 0.0"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="log's input must lie in .*, got nan"):
        Value(float("nan")).log()


def test_zero_grad_misuse():
    x, y = Value(1.0), Value(2.0)
    x.grad = y.grad = 5.0
    zero_grad(v for v in (x, y))  # a generator is fine: one pass
    assert x.grad == y.grad == 0.0
    with pytest.raises(TypeError, match="must be an iterable of Values, got one"):
        zero_grad(x)
    with pytest.raises(TypeError, match="params must hold Values only, got a float"):
        zero_grad([x, 1.0])


def test_train_values_keeps_a_generator_of_parameters_for_every_step():
    w = Value(3.0)
    losses = train_values((p for p in [w]), lambda: w * w, lr=0.25, num_steps=3)
    assert losses == [9.0, 2.25, 0.5625]  # w halves each step: the generator is kept


@pytest.mark.parametrize("params, loss_fn, lr, num_steps, error, match", [
    ([], lambda: Value(0.0), 0.1, 1, TypeError, "non-empty iterable of Values"),
    ((p for p in []), lambda: Value(0.0), 0.1, 1, TypeError, "non-empty"),
    ([1.0], lambda: Value(0.0), 0.1, 1, TypeError, "iterable of Values"),
    ([Value(1.0)], lambda: 1.0, 0.1, 1, TypeError, "loss_fn must return a Value"),
    ([Value(1.0)], lambda: Value(0.0), None, 1, TypeError, "lr must be a real"),
    ([Value(1.0)], lambda: Value(0.0), 0.1, 0, ValueError, "num_steps must be > 0"),
])
def test_train_values_misuse(params, loss_fn, lr, num_steps, error, match):
    with pytest.raises(error, match=match):
        train_values(params, loss_fn, lr, num_steps)


def test_train_values_stops_when_the_loss_diverges():
    w = Value(1.0)
    losses = train_values([w], lambda: (w * w).exp(), lr=1e6, num_steps=10)
    assert len(losses) < 10 and not math.isfinite(losses[-1])


def test_value_networks_misuse():
    _, layers = _network()
    with pytest.raises(ValueError, match="layers must hold at least one"):
        mlp([1.0, 2.0, 3.0], [])
    with pytest.raises(TypeError, match="weights must hold Values only"):
        mlp([1.0], [([[1.0]], [Value(0.0)])])
    with pytest.raises(ValueError, match=r"layers\[1\] expects 8 inputs.*4 outputs"):
        mlp([1.0, 2.0, 3.0], [layers[0], ([row + row for row in layers[1][0]],
                                          layers[1][1])])
    with pytest.raises(TypeError, match=r"layers\[0\] must be a pair \(W, b\)"):
        parameters([layers[0][0]])
    with pytest.raises(TypeError, match=r"layers\[0\] must be a pair"):
        layer_tensors(None)
    assert len(parameters(tuple(layers))) == 4 * 3 + 4 + 2 * 4 + 2
    with pytest.raises(TypeError, match="linear must be a torch.nn.Linear"):
        values_from_linear(torch.nn.Linear(2, 2, bias=False))
    with pytest.raises(ValueError, match="activation"):
        mlp_torch(torch.zeros(2, 3), layers, activation="gelu")
    with pytest.raises(ValueError, match="X must have 3 features"):
        mlp_torch(torch.zeros(2, 4), layers)
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        mlp_torch([[0.0, 0.0, 0.0]], layers)
    assert mlp_torch(torch.zeros(0, 3), layers).shape == (0, 2)
    out = mlp((v for v in [1.0, 2.0, 3.0]), layers)  # a generator input
    assert len(out) == 2


def test_bce_with_logits_misuse():
    with pytest.raises(TypeError, match="z must be a Value, got float"):
        bce_with_logits(0.5, 1.0)
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):
        bce_with_logits(Value(0.5), 2.0)
    soft = bce_with_logits(Value(0.3), 0.25)  # soft labels are fine
    expected = F.binary_cross_entropy_with_logits(torch.tensor(0.3, dtype=f64),
                                                  torch.tensor(0.25, dtype=f64))
    assert soft.data == pytest.approx(expected.item())


@pytest.mark.parametrize("change, match", [
    (dict(X=[[0.0] * 6]), "X must be a torch.Tensor"),
    (dict(X=torch.zeros(6, dtype=f64)), "X must have 2"),
    (dict(W1=torch.zeros(5, 6, dtype=torch.float32)), "one float dtype"),
    (dict(b1=torch.zeros(5, 1, dtype=f64)), "shapes do not fit"),
    (dict(y=torch.zeros(2, dtype=torch.int32)), "int64"),
    (dict(y=torch.tensor([0, 3])), "below 3"),
    (dict(y=[0, 1]), "y must be a torch.Tensor"),
    (dict(W2=None), "W2 must be a torch.Tensor"),
])
def test_two_layer_backprop_misuse(change, match):
    args = dict(X=torch.zeros(2, 6, dtype=f64), y=torch.tensor([0, 1]),
                **_two_layer_params())
    args.update(change)
    with pytest.raises((ValueError, TypeError), match=match):
        two_layer_backprop(**args)


def test_numerical_gradient_misuse_and_edge_cases():
    with pytest.raises(ValueError, match="f must return a number or a one-element"):
        numerical_gradient(lambda t: t * 2, torch.zeros(3, dtype=f64))
    with pytest.raises(ValueError, match="f must return a number"):
        numerical_gradient(lambda t: None, torch.zeros(3, dtype=f64))
    with pytest.raises(TypeError, match="floating"):
        numerical_gradient(lambda t: t.sum(), torch.zeros(3, dtype=torch.long))
    assert numerical_gradient(lambda t: 1.0, torch.zeros(0, dtype=f64)).shape == (0,)
    x = torch.tensor(2.0, dtype=f64)
    assert numerical_gradient(lambda t: t ** 2, x).item() == pytest.approx(4.0)
    xt = torch.arange(6.0, dtype=f64).reshape(2, 3).T  # not contiguous
    torch.testing.assert_close(numerical_gradient(lambda t: (t ** 2).sum(), xt),
                               2 * xt, rtol=1e-6, atol=1e-6)
