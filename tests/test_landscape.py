import math

import pytest
import torch

from introdl.landscape import (PlaneLoss, bumpy_loss, descend_from_starts,
                               distinct_minima, gradient_descent, loss_grid,
                               mlp_loss, plot_learning_rates, plot_loss_contours,
                               plot_loss_surface, rosenbrock, tiny_mlp,
                               train_solutions)

F = torch.nn.functional


def _data(n=30, d=6, C=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64),
            torch.randint(0, C, (n,), generator=g))


def test_mlp_loss_matches_pytorch_network_value_and_gradient():
    X, y = _data()
    net = tiny_mlp(6, 5, 4, seed=3).double()
    theta = torch.nn.utils.parameters_to_vector(net.parameters()).detach()
    theta.requires_grad_(True)
    ours = mlp_loss(theta, X, y, hidden_size=5, num_classes=4)
    theirs = F.cross_entropy(net(X), y)
    torch.testing.assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    expected = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    torch.testing.assert_close(theta.grad, expected)


def test_mlp_loss_batches_networks():
    X, y = _data()
    thetas = torch.randn(3, 2, 5 * 7 + 4 * 6, dtype=torch.float64)  # (3, 2, P)
    batched = mlp_loss(thetas, X, y, hidden_size=5, num_classes=4)
    assert batched.shape == (3, 2)
    torch.testing.assert_close(batched[2, 1], mlp_loss(thetas[2, 1], X, y, 5, 4))


def test_mlp_loss_rejects_wrong_parameter_count():
    X, y = _data()
    with pytest.raises(ValueError, match="theta must have 59 entries"):
        mlp_loss(torch.zeros(58, dtype=torch.float64), X, y, hidden_size=5,
                 num_classes=4)


def test_tiny_mlp_is_seeded():
    a, b, c = tiny_mlp(seed=1), tiny_mlp(seed=1), tiny_mlp(seed=2)
    to_vector = torch.nn.utils.parameters_to_vector
    va, vb, vc = (to_vector(m.parameters()) for m in (a, b, c))
    torch.testing.assert_close(va, vb)
    assert not torch.equal(va, vc)
    assert va.numel() == 8 * 65 + 10 * 9


def test_train_solutions_lowers_the_loss_and_differs_by_seed():
    X, y = _data(n=40, d=6, C=3)
    X = X.float()
    thetas = train_solutions(X, y, seeds=(1, 2), hidden_size=4, num_epochs=30, lr=0.5)
    start = torch.nn.utils.parameters_to_vector(tiny_mlp(6, 4, 3, seed=1).parameters())
    assert mlp_loss(thetas[0], X, y, 4, 3) < 0.9 * mlp_loss(start.detach(), X, y, 4, 3)
    assert not torch.allclose(thetas[0], thetas[1])


def test_plane_passes_through_the_three_networks():
    X, y = _data(C=4)
    thetas = tuple(torch.randn(59, dtype=torch.float64) for _ in range(3))
    f = PlaneLoss(thetas, X, y, hidden_size=5)
    corners = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    for ab, theta in zip(corners, thetas):
        torch.testing.assert_close(f.theta(ab), theta)
        torch.testing.assert_close(f(ab), mlp_loss(theta, X, y, 5, 4))
    torch.testing.assert_close(f(corners), torch.stack([f(c) for c in corners]))


def test_loss_grid_matches_pointwise_and_chunking():
    A, B, L = loss_grid(rosenbrock, (-1.0, 1.0), (0.0, 2.0), num=7, chunk=5)
    assert A.shape == B.shape == L.shape == (7, 7)
    torch.testing.assert_close(L[2, 3], rosenbrock(torch.stack([A[2, 3], B[2, 3]])))
    assert A[0, 0] == -1 and B[-1, 0] == 2  # rows follow b, columns follow a
    torch.testing.assert_close(loss_grid(rosenbrock, (-1.0, 1.0), (0.0, 2.0), 7,
                                         chunk=1000)[2], L)


def test_gradient_descent_on_a_parabola_follows_the_closed_form():
    lam, lr, w0 = 3.0, 0.1, torch.tensor([2.0, -1.0], dtype=torch.float64)
    path, losses = gradient_descent(lambda w: 0.5 * lam * (w ** 2).sum(), w0, lr, 10)
    assert path.shape == (11, 2) and losses.shape == (11,)
    expected = torch.stack([(1 - lr * lam) ** t * w0 for t in range(11)])
    torch.testing.assert_close(path, expected)
    torch.testing.assert_close(losses, 0.5 * lam * (expected ** 2).sum(1))
    assert w0.tolist() == [2.0, -1.0]  # the start is not modified


def test_gradient_descent_stops_when_the_loss_is_no_longer_finite():
    path, losses = gradient_descent(lambda w: w ** 2, torch.tensor(1.0), 10.0, 1000)
    assert len(path) < 1001 and not math.isfinite(losses[-1].item())


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-0.1, num_steps=3), "lr"),
    (dict(lr=0.1, num_steps=0), "num_steps"),
])
def test_gradient_descent_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradient_descent(lambda w: w ** 2, torch.tensor(1.0), **kwargs)


def test_descend_from_starts_equals_separate_runs():
    starts = torch.tensor([[-1.0, 2.0], [0.5, 0.5], [1.5, 1.0]], dtype=torch.float64)
    paths = descend_from_starts(rosenbrock, starts, 1e-3, 20)
    for s, p in zip(starts, paths):
        torch.testing.assert_close(p, gradient_descent(rosenbrock, s, 1e-3, 20)[0])


def test_gradient_descent_reaches_different_minima_from_different_starts():
    starts = torch.tensor([-3.0, -1.0, 3.0], dtype=torch.float64)
    ends = torch.stack([gradient_descent(bumpy_loss, w, 0.05, 400)[0][-1]
                        for w in starts])
    centres, labels = distinct_minima(ends[:, None], tol=0.05)
    assert labels.tolist() == [0, 1, 1]
    assert centres[0].item() == pytest.approx(-2.084, abs=1e-3)  # the narrow dent
    assert centres[1].item() == pytest.approx(1.5, abs=1e-3)  # the global minimum
    assert bumpy_loss(centres[1]) < bumpy_loss(centres[0])


def test_distinct_minima_validates_tolerance():
    with pytest.raises(ValueError, match="tol"):
        distinct_minima(torch.zeros(2, 2), tol=0.0)


def test_rosenbrock_minimum():
    w = torch.tensor([1.0, 1.0], requires_grad=True)
    loss = rosenbrock(w)
    loss.backward()
    assert loss.item() == 0 and w.grad.abs().max() == 0
    assert rosenbrock(torch.zeros(4, 2)).shape == (4,)


def test_plots_return_figures_with_paths():
    A, B, L = loss_grid(rosenbrock, (-2.0, 2.0), (-1.0, 3.0), 20)
    fig = plot_loss_surface(A, B, L, marks={"min": (1.0, 1.0)})
    assert fig.axes[0].name == "3d"
    path = torch.tensor([[-1.0, 2.0], [0.0, 1.0], [1.0, 1.0]])
    fig = plot_loss_contours(A, B, L, paths={"a": path, "_b": path}, cbar_label=None)
    ax = fig.axes[0]
    assert len(fig.axes) == 1  # no colour bar
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a"]
    runs = {"small": gradient_descent(bumpy_loss, torch.tensor(-3.0), 0.05, 5)}
    assert len(plot_learning_rates(bumpy_loss, runs).axes) == 2
