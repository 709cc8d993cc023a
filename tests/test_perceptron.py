import pytest
import torch

from introdl.activations import relu, sigmoid
from introdl.perceptron import (Perceptron, draw_perceptron,
                                linear_stack_is_linear, linearly_separable_data,
                                perceptron, separability_demo, xor_data)


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
    with pytest.raises(ValueError, match=r"w has shape \(2,\) but X has shape \(5, 3\)"):
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
    from introdl.training import fit

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


def test_separability_demo_tells_the_story():
    results = separability_demo(num_steps=200)
    acc = [r["accuracy"] for r in results.values()]
    assert acc[0] > 0.95  # a line separates the blobs
    assert acc[1] < 0.8 and acc[2] < 0.8  # but not XOR, with or without stacking


def test_diagram_has_all_labels():
    fig = draw_perceptron(d=2)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"$x_1$", "$x_2$", "$w_0$", "$w_2$", r"$\hat{y}$", "$g$"} <= texts
