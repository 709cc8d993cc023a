import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.activations import relu, sigmoid
from introdl.perceptron import (
    Perceptron,
    linear_stack_is_linear,
    linearly_separable_data,
    perceptron,
    xor_data,
)
from introdl.training import fit


def test_batch_matches_nn_linear():
    X = torch.randn(7, 4, dtype=torch.float64)
    w = torch.randn(4, dtype=torch.float64)
    linear = torch.nn.Linear(4, 1, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(w[None])
        linear.bias.fill_(-0.3)
    expected = torch.sigmoid(linear(X)).squeeze(-1)
    torch.testing.assert_close(perceptron(X, w, -0.3, g=sigmoid), expected)
    torch.testing.assert_close(perceptron(X, w, torch.tensor(-0.3, dtype=torch.float64),
                                          g=sigmoid), expected)


def test_single_input_gives_scalar_and_default_is_sigmoid():
    x = torch.tensor([1.0, 2.0])
    w = torch.tensor([0.5, -1.0])
    y = perceptron(x, w, 0.25)
    assert y.shape == ()
    torch.testing.assert_close(y, torch.sigmoid(torch.tensor(0.25 + 0.5 - 2.0)))
    assert perceptron(x, w, 0.0, g=relu).item() == 0.0


def test_gradients_flow_to_weights_and_bias():
    X = torch.randn(5, 3)
    w = torch.randn(3, requires_grad=True)
    w0 = torch.tensor(0.1, requires_grad=True)
    perceptron(X, w, w0).sum().backward()
    s = torch.sigmoid(w0 + X @ w).detach()
    torch.testing.assert_close(w.grad, X.T @ (s * (1 - s)))
    torch.testing.assert_close(w0.grad, (s * (1 - s)).sum())


def test_wrong_weight_length_names_both_shapes():
    with pytest.raises(ValueError, match=r"X must have size 2 in its last "
                                         r"dimension, got shape \(5, 3\)"):
        perceptron(torch.randn(5, 3), torch.randn(2), 0.0)


@pytest.mark.parametrize("X, w, w0", [
    (torch.randn(2, 3, 4), torch.randn(4), 0.0),
    (torch.randn(2, 3), torch.randn(3, 1), 0.0),
    (torch.randn(2, 3), torch.randn(3), torch.zeros(2)),
])
def test_bad_shapes_raise_value_error(X, w, w0):
    with pytest.raises(ValueError):
        perceptron(X, w, w0)


def test_non_tensor_input_raises_type_error():
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        perceptron([[1.0, 2.0]], torch.randn(2), 0.0)


def test_linear_stack_collapses():
    g = torch.Generator().manual_seed(1)
    dims = [3, 5, 4, 2]
    Ws = [torch.randn(o, i, generator=g, dtype=torch.float64)
          for i, o in zip(dims, dims[1:])]
    bs = [torch.randn(o, generator=g, dtype=torch.float64) for o in dims[1:]]
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    h = x
    for W, b in zip(Ws, bs):
        h = h @ W.T + b
    W, b = linear_stack_is_linear(Ws, bs)
    assert W.shape == (2, 3) and b.shape == (2,)
    torch.testing.assert_close(h, x @ W.T + b)


def test_linear_stack_rejects_mismatch():
    with pytest.raises(ValueError, match="weights"):
        linear_stack_is_linear([torch.randn(4, 3), torch.randn(2, 5)],
                               [torch.randn(4), torch.randn(2)])
    with pytest.raises(ValueError, match="equal length"):
        linear_stack_is_linear([torch.randn(4, 3)], [])


def test_data_is_seeded_and_shaped():
    X1, y1 = xor_data(n=50, seed=3)
    X2, y2 = xor_data(n=50, seed=3)
    assert X1.shape == (50, 2) and y1.shape == (50,)
    torch.testing.assert_close(X1, X2)
    assert set(y1.tolist()) <= {0.0, 1.0}
    X, y = linearly_separable_data(n=40)
    assert X.shape == (40, 2) and 0 < y.sum() < 40


def test_perceptron_module_gives_logits_and_learns():
    gen = torch.Generator().manual_seed(0)
    model = Perceptron(2, gen)
    X, y = linearly_separable_data(n=100)
    torch.testing.assert_close(model(X), model.w0 + X @ model.w)
    history = fit(model, (X, y),
                  loss_fn=torch.nn.functional.binary_cross_entropy_with_logits,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
                  num_epochs=100, generator=gen)
    assert history.train_loss[-1] < 0.2 < history.train_loss[0]
    assert set(dict(model.named_parameters())) == {"w", "w0"}


# --- misuse ----------------------------------------------------------------------

def test_default_activation_is_the_sigmoid():
    X, w = torch.randn(4, 3), torch.randn(3)
    torch.testing.assert_close(perceptron(X, w, 0.1), sigmoid(0.1 + X @ w))


@pytest.mark.parametrize("X, w, w0, error, match", [
    (None, torch.randn(2), 0.0, TypeError, "X must be a torch.Tensor, got NoneType"),
    (torch.randn(3, 2), [1.0, 2.0], 0.0, TypeError, "w must be a torch.Tensor"),
    (torch.randn(3, 2), None, 0.0, TypeError, "w must be a torch.Tensor"),
    (torch.tensor([[1, 2]]), torch.randn(2), 0.0, TypeError,
     "X must have dtype torch.float32, got torch.int64"),
    (torch.randn(1, 2), torch.tensor([1, 2]), 0.0, TypeError, "w must have a floating"),
    (torch.randn(3, 2), torch.randn(2), None, TypeError, "w0 must be a real number"),
    (torch.randn(3, 2), torch.randn(2), "0", TypeError, "w0 must be a real number"),
    (torch.randn(3, 2), torch.randn(2), float("nan"), ValueError, "w0 must lie"),
    (torch.tensor(1.0), torch.randn(1), 0.0, ValueError,
     r"X must have 1 or 2 dimension\(s\), got shape \(\)"),
    (torch.randn(3), torch.tensor(1.0), 0.0, ValueError,
     r"w must have 1 dimension\(s\), got shape \(\)"),
    (torch.randn(3, 2), torch.randn(2), torch.zeros(1), ValueError,
     r"w0 must have 0 dimension\(s\), got shape \(1,\)"),
    (torch.randn(3, 2), torch.randn(2, dtype=torch.float64), 0.0, TypeError,
     "X must have dtype torch.float64, got torch.float32"),
])
def test_bad_arguments_name_the_argument(X, w, w0, error, match):
    with pytest.raises(error, match=match):
        perceptron(X, w, w0)


def test_empty_batch_and_zero_features():
    assert perceptron(torch.randn(0, 3), torch.randn(3), 0.5).shape == (0,)
    out = perceptron(torch.randn(4, 0), torch.randn(0), 0.5)  # only the bias is left
    torch.testing.assert_close(out, torch.sigmoid(torch.full((4,), 0.5)))


def test_nan_inputs_propagate():
    out = perceptron(torch.tensor([[float("nan"), 1.0], [1.0, 1.0]]),
                     torch.tensor([1.0, 1.0]), 0.0)
    assert out[0].isnan() and not out[1].isnan()


def test_linear_stack_takes_generators_and_tuples():
    Ws = [torch.randn(4, 3), torch.randn(2, 4)]
    bs = [torch.randn(4), torch.randn(2)]
    W, b = linear_stack_is_linear(iter(Ws), (b for b in bs))
    torch.testing.assert_close(W, Ws[1] @ Ws[0])
    W1, b1 = linear_stack_is_linear(Ws[:1], bs[:1])  # one map collapses to itself
    assert W1 is Ws[0] and b1 is bs[0]


@pytest.mark.parametrize("weights, biases, error, match", [
    ([], [], ValueError, "non-empty"),
    ((w for w in []), [], ValueError, "non-empty"),
    ([torch.randn(3, 2)], [torch.randn(2)], ValueError,
     r"biases\[0\] must have shape \(3,\), got \(2,\)"),
    ([torch.randn(3)], [torch.randn(3)], ValueError,
     r"weights\[0\] must have 2 dimension\(s\), got shape \(3,\)"),
    ([torch.randn(3, 2).tolist()], [torch.randn(3)], TypeError,
     r"weights\[0\] must be"),
    ([torch.randn(3, 2)], [None], TypeError, r"biases\[0\] must be a torch.Tensor"),
    ([torch.randn(3, 2), torch.randn(2, 4)], [torch.randn(3), torch.randn(2)],
     ValueError, r"weights\[1\] must have shape \(2, 3\), got \(2, 4\)"),
    ([torch.randn(3, 2), torch.randn(2, 3)], [torch.randn(3), torch.randn(3)],
     ValueError, r"biases\[1\] must have shape \(2,\), got \(3,\)"),
])
def test_linear_stack_misuse(weights, biases, error, match):
    with pytest.raises(error, match=match):
        linear_stack_is_linear(weights, biases)


@given(st.integers(1, 4), st.lists(st.integers(1, 4), min_size=1, max_size=4))
@settings(max_examples=30, deadline=None)
def test_linear_stack_collapses_any_chain(d0, dims):
    g = torch.Generator().manual_seed(0)
    sizes = [d0, *dims]
    Ws = [torch.randn(o, i, generator=g, dtype=torch.float64)
          for i, o in zip(sizes, sizes[1:])]
    bs = [torch.randn(o, generator=g, dtype=torch.float64) for o in sizes[1:]]
    x = torch.randn(5, d0, generator=g, dtype=torch.float64)
    h = x
    for W, b in zip(Ws, bs):
        h = h @ W.T + b
    W, b = linear_stack_is_linear(Ws, bs)
    torch.testing.assert_close(h, x @ W.T + b)


@pytest.mark.parametrize("make", [linearly_separable_data, xor_data])
def test_data_misuse(make):
    with pytest.raises(ValueError, match="n must be > 0"):
        make(n=0)
    with pytest.raises(TypeError, match="n must be an int"):
        make(n=10.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        make(seed=None)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        make(seed=-1)
    X, y = make(n=1)
    assert X.shape == (1, 2) and y.shape == (1,)


def test_xor_noise_must_be_a_number_at_least_zero():
    with pytest.raises(ValueError, match="noise"):
        xor_data(noise=-0.1)
    X, y = xor_data(n=8, noise=0.0)
    assert set(X.abs().flatten().tolist()) == {1.0}


def test_data_leaves_the_global_generator_alone():
    before = torch.random.get_rng_state()
    xor_data(n=5)
    linearly_separable_data(n=5)
    assert torch.equal(before, torch.random.get_rng_state())


def test_perceptron_module_misuse():
    with pytest.raises(ValueError, match="d must be > 0"):
        Perceptron(0)
    with pytest.raises(TypeError, match="d must be an int"):
        Perceptron(2.0)
    model = Perceptron(3)
    with pytest.raises(ValueError, match=r"X must have size 3 in its last "
                                         r"dimension, got shape \(4, 2\)"):
        model(torch.randn(4, 2))
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        model([[1.0, 2.0, 3.0]])
