import pytest
import torch

from introdl.activations import relu, sigmoid
from introdl.layers import Dense, dense_network


def _pair(in_features, out_features, activation=None):
    linear = torch.nn.Linear(in_features, out_features, dtype=torch.float64)
    dense = Dense(in_features, out_features, activation).double()
    dense.load_state_dict(linear.state_dict())
    return dense, linear


def test_parameters_have_linear_names_and_shapes():
    dense = Dense(5, 3)
    shapes = {name: tuple(p.shape) for name, p in dense.named_parameters()}
    assert shapes == {"weight": (3, 5), "bias": (3,)}
    linear = torch.nn.Linear(5, 3)
    linear.load_state_dict(dense.state_dict())  # and the other way round
    torch.testing.assert_close(linear.weight, dense.weight)


@pytest.mark.parametrize("shape", [(7, 4), (4,), (2, 3, 4)])
def test_outputs_and_gradients_match_linear(shape):
    dense, linear = _pair(4, 3)
    X = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(dense(X), linear(X))
    out_d, out_l = dense(X), linear(X)
    grads_d = torch.autograd.grad((out_d ** 2).sum(), [X, dense.weight, dense.bias])
    grads_l = torch.autograd.grad((out_l ** 2).sum(), [X, linear.weight, linear.bias])
    for g_d, g_l in zip(grads_d, grads_l):
        torch.testing.assert_close(g_d, g_l)


@pytest.mark.parametrize("activation, torch_fn", [(relu, torch.relu),
                                                  (sigmoid, torch.sigmoid)])
def test_activation_is_applied(activation, torch_fn):
    dense, linear = _pair(3, 2, activation)
    X = torch.randn(6, 3, dtype=torch.float64)
    torch.testing.assert_close(dense(X), torch_fn(linear(X)))


def test_initialisation_is_seeded_and_bounded():
    a = Dense(16, 8, generator=torch.Generator().manual_seed(3))
    b = Dense(16, 8, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a.weight, b.weight)
    torch.testing.assert_close(a.bias, b.bias)
    assert a.weight.abs().max() <= 0.25 and a.bias.abs().max() <= 0.25  # 1/sqrt(16)
    assert a.weight.std() > 0.05  # not all zero


def test_wrong_number_of_features_names_both():
    with pytest.raises(ValueError, match=r"X must have size 3 in its last dimension, "
                                         r"got shape \(4, 5\)"):
        Dense(3, 2)(torch.randn(4, 5))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        Dense(3, 2)(torch.tensor(1.0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="in_features"):
        Dense(0, 2)
    with pytest.raises(TypeError, match="out_features"):
        Dense(2, 2.5)
    with pytest.raises(TypeError, match="activation"):
        Dense(2, 2, activation="relu")
    with pytest.raises(TypeError, match="X must be a torch.Tensor"):
        Dense(2, 2)([[1.0, 2.0]])
    with pytest.raises(TypeError, match="X must have dtype torch.float32, got "
                                        "torch.int64"):
        Dense(2, 2)(torch.tensor([[1, 2]]))


def test_repr_names_activation():
    assert "activation=relu" in repr(Dense(2, 3, relu))


def test_dense_network_matches_sequential_of_linear():
    sizes = [3, 8, 8, 2]
    ours = dense_network(sizes).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 2)).double()
    for dense, linear in zip(ours, theirs[::2]):
        dense.load_state_dict(linear.state_dict())
    X = torch.randn(10, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(X), theirs(X))
    assert [m.activation for m in ours] == [relu, relu, None]
    with pytest.raises(ValueError, match="sizes"):
        dense_network([4])


# --- misuse ----------------------------------------------------------------------

@pytest.mark.parametrize("args, error, match", [
    ((None, 2), TypeError, "in_features must be an int, got NoneType"),
    ((True, 2), TypeError, "in_features must be an int, got bool"),
    ((2, -1), ValueError, "out_features must be > 0, got -1"),
    ((2, 2, 3), TypeError, "activation must be callable or None, got 3"),
])
def test_dense_constructor_misuse(args, error, match):
    with pytest.raises(error, match=match):
        Dense(*args)


@pytest.mark.parametrize("X, error, match", [
    (None, TypeError, "X must be a torch.Tensor, got NoneType"),
    ((x for x in [1.0]), TypeError, "X must be a torch.Tensor, got generator"),
    (torch.zeros(4, 3, dtype=torch.bool), TypeError, "float32, got torch.bool"),
    (torch.zeros(4, 3, dtype=torch.float64), TypeError,
     "X must have dtype torch.float32, got torch.float64"),
    (torch.zeros(4, 2), ValueError, r"size 3 in its last dimension, got shape \(4, 2"),
    (torch.zeros(0), ValueError, r"got shape \(0,\)"),
])
def test_dense_forward_misuse(X, error, match):
    with pytest.raises(error, match=match):
        Dense(3, 2)(X)


def test_dense_handles_empty_batches_nan_and_one_input():
    layer = Dense(3, 2, relu)
    assert layer(torch.zeros(0, 3)).shape == (0, 2)
    assert layer(torch.zeros(3)).shape == (2,)
    out = torch.nn.Linear(3, 2)
    layer.load_state_dict(out.state_dict())
    X = torch.tensor([[float("nan"), 0.0, 0.0]])
    torch.testing.assert_close(layer(X), torch.relu(out(X)), equal_nan=True)


def test_dense_builds_on_the_meta_device_and_leaves_global_rng_alone():
    before = torch.random.get_rng_state()
    Dense(4, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(before, torch.random.get_rng_state())
    with torch.device("meta"):
        layer = Dense(4, 3)
        out = layer(torch.empty(5, 4))
    assert out.shape == (5, 3) and out.device.type == "meta"


def test_dense_network_takes_any_iterable_and_checks_sizes():
    net = dense_network(iter([2, 4, 1]))
    assert [m.out_features for m in net] == [4, 1]
    assert len(dense_network((2, 3))) == 1
    with pytest.raises(ValueError, match="sizes"):
        dense_network([])
    with pytest.raises(ValueError, match="out_features must be > 0"):
        dense_network([2, 0, 1])
    with pytest.raises(TypeError, match="in_features must be an int"):
        dense_network([2.0, 3])
    with pytest.raises(TypeError, match="activation"):
        dense_network([2, 3, 1], activation="relu")
    linear = dense_network([2, 3, 1], activation=None)  # a purely linear network
    assert [m.activation for m in linear] == [None, None]
