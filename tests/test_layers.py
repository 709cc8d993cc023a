import pytest
import torch

from introdl.activations import relu, sigmoid
from introdl.layers import (Dense, dense_network, depth_width_demo, draw_network,
                            plot_depth_width, spiral_data)


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
    with pytest.raises(ValueError, match=r"expected 3 input features.*got 5"):
        Dense(3, 2)(torch.randn(4, 5))
    with pytest.raises(ValueError, match="0-d"):
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
    with pytest.raises(TypeError, match="floating"):
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


def test_spiral_data_is_seeded_balanced_and_shaped():
    X, y = spiral_data(n=60, seed=1)
    X2, y2 = spiral_data(n=60, seed=1)
    assert X.shape == (60, 2) and X.dtype == torch.float32
    assert y.dtype == torch.int64 and y.sum() == 30
    torch.testing.assert_close(X, X2)
    X0, _ = spiral_data(n=60, noise=0.0)
    assert X0.norm(dim=1).max() <= 1.0 + 1e-6
    with pytest.raises(ValueError, match="turns"):
        spiral_data(turns=0)


def test_depth_width_demo_hidden_layer_beats_linear():
    X, y = spiral_data(n=120, seed=0)
    res = depth_width_demo({"none": [], "wide": [32]}, X, y, num_epochs=150, lr=0.03)
    assert res["none"]["num_params"] == 6 and res["wide"]["num_params"] == 162
    assert res["none"]["accuracy"] < 0.75 < 0.9 < res["wide"]["accuracy"]
    again = depth_width_demo({"wide": [32]}, X, y, num_epochs=150, lr=0.03)
    assert again["wide"]["history"].train_loss == res["wide"]["history"].train_loss
    fig = plot_depth_width(res, X, y)
    assert "162 parameters" in fig.axes[1].get_title()


def test_draw_network_labels_and_validation():
    fig = draw_network([3, 4, 2], weight_names=["$W^{(1)}$", "$W^{(2)}$"],
                       layer_names=["in", "hidden", "out"])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"$x_3$", "$z^{(1)}_4$", r"$\hat{y}_2$", "$W^{(2)}$", "hidden"} <= texts
    assert len(fig.axes[0].patches) == 9 + 3 * 4 + 4 * 2  # nodes and arrows
    with pytest.raises(ValueError, match="sizes"):
        draw_network([3])
