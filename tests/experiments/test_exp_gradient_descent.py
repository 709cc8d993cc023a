import pytest
import torch

from introdl.experiments.gradient_descent import (
    critical_point,
    distinct_minima,
    full_gradient_norm,
    permute_hidden_units,
    train_solutions,
)
from introdl.landscape import bumpy_loss, gradient_descent, mlp_loss, tiny_mlp


def _data(n=30, d=6, C=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, generator=g, dtype=torch.float64),
            torch.randint(0, C, (n,), generator=g))


def test_train_solutions_lowers_the_loss_and_differs_by_seed():
    X, y = _data(n=40, d=6, C=3)
    X = X.float()
    thetas = train_solutions(X, y, seeds=(1, 2), hidden_size=4, num_epochs=30, lr=0.5)
    start = torch.nn.utils.parameters_to_vector(tiny_mlp(6, 4, 3, seed=1).parameters())
    assert mlp_loss(thetas[0], X, y, 4, 3) < 0.9 * mlp_loss(start.detach(), X, y, 4, 3)
    assert not torch.allclose(thetas[0], thetas[1])


def test_train_solutions_misuse():
    X, y = _data()
    with pytest.raises(ValueError, match="seeds must hold at least one"):
        train_solutions(X.float(), y, seeds=())
    with pytest.raises(ValueError, match="X must have 2"):
        train_solutions(X[0].float(), y, seeds=(1,))
    thetas = train_solutions(X.float(), y, seeds=iter([1]), hidden_size=2,
                             num_epochs=1)  # a generator of seeds works
    assert len(thetas) == 1


@pytest.mark.slow
def test_gradient_descent_reaches_different_minima_from_different_starts():
    starts = torch.tensor([-3.0, -1.0, 3.0], dtype=torch.float64)
    ends = torch.stack([gradient_descent(bumpy_loss, w, 0.05, 400)[0][-1]
                        for w in starts])
    centres, labels = distinct_minima(ends[:, None], tol=0.05)
    assert labels.tolist() == [0, 1, 1]
    assert centres[0].item() == pytest.approx(-2.084, abs=1e-3)  # the narrow dent
    assert centres[1].item() == pytest.approx(1.5, abs=1e-3)  # the global minimum
    assert bumpy_loss(centres[1]) < bumpy_loss(centres[0])


def test_distinct_minima_validates_its_arguments():
    with pytest.raises(ValueError, match="tol"):
        distinct_minima(torch.zeros(2, 2), tol=0.0)
    with pytest.raises(ValueError, match="points must have 2"):
        distinct_minima(torch.zeros(2))
    with pytest.raises(ValueError, match="at least one point"):
        distinct_minima(torch.zeros(0, 2))
    with pytest.raises(TypeError, match="points must be a torch.Tensor"):
        distinct_minima([[0.0, 1.0]])
    centres, labels = distinct_minima(torch.tensor([[float("nan")], [0.0]]))
    assert labels.tolist() == [0, 1]  # a diverged run is a group of its own


# --- what a slice hides: critical points, full gradients, relabelled units ----------

def test_critical_point_finds_a_saddle_and_a_minimum_with_their_curvatures():
    def saddle(w):  # x^2 - y^2 + x y / 2, a saddle at the origin
        return w[0] ** 2 - w[1] ** 2 + 0.5 * w[0] * w[1]

    point, curv = critical_point(saddle, torch.tensor([0.3, -0.2], dtype=torch.float64))
    torch.testing.assert_close(point, torch.zeros(2, dtype=torch.float64))
    expected = torch.linalg.eigvalsh(torch.tensor([[2.0, 0.5], [0.5, -2.0]],
                                                  dtype=torch.float64))
    torch.testing.assert_close(curv, expected)
    assert curv[0] < 0 < curv[1]
    def bowl(w):
        return ((w - 1.5) ** 2).sum() + 0.1 * w.prod()

    point, curv = critical_point(bowl, torch.zeros(3, dtype=torch.float64))
    leaf = point.clone().requires_grad_()
    (grad,) = torch.autograd.grad(bowl(leaf), leaf)
    assert grad.abs().max() < 1e-10 and (curv > 0).all()  # a minimum


def test_critical_point_misuse():
    f = lambda w: (w ** 2).sum()  # noqa: E731
    with pytest.raises(ValueError, match="start must have 1"):
        critical_point(f, torch.zeros(2, 2))
    with pytest.raises(TypeError, match="start must have a floating"):
        critical_point(f, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="num_steps must be > 0"):
        critical_point(f, torch.zeros(2), num_steps=0)


def test_full_gradient_norm_is_the_length_of_autograds_gradient():
    X, y = _data(n=20, d=5, C=3)
    theta = torch.randn(4 * 6 + 3 * 5, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(1))
    leaf = theta.clone().requires_grad_()
    (grad,) = torch.autograd.grad(mlp_loss(leaf, X, y, 4, 3), leaf)
    assert full_gradient_norm(theta, X, y, 4) == pytest.approx(grad.norm().item())
    assert not theta.requires_grad  # the caller's tensor is left alone
    with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
        full_gradient_norm(theta.tolist(), X, y, 4)


def test_permuting_hidden_units_keeps_the_loss_and_can_be_undone():
    X, y = _data(n=25, d=6, C=4)
    H, d, C = 5, 6, 4
    theta = torch.randn(H * (d + 1) + C * (H + 1), dtype=torch.float64,
                        generator=torch.Generator().manual_seed(2))
    perm = [3, 0, 4, 1, 2]
    moved = permute_hidden_units(theta, perm, in_features=d, num_classes=C)
    assert not torch.allclose(moved, theta)  # another point of weight space ...
    torch.testing.assert_close(mlp_loss(moved, X, y, H, C), mlp_loss(theta, X, y, H, C))
    inverse = [perm.index(j) for j in range(H)]  # ... with the same loss
    torch.testing.assert_close(permute_hidden_units(moved, inverse, d, C), theta)
    W1 = theta[:H * d].view(H, d)
    torch.testing.assert_close(moved[:H * d].view(H, d)[0], W1[3])  # unit 3 -> 0
    identity = permute_hidden_units(theta, range(H), d, C)
    torch.testing.assert_close(identity, theta)


@pytest.mark.parametrize("perm, shape, match", [
    ([0, 0, 1], None, "permutation"),
    ([0, 2], None, "permutation"),
    ([0, 1, 2], 10, r"got \[0, 1, 2\] and \(10,\)"),
])
def test_permute_hidden_units_misuse(perm, shape, match):
    H, d, C = 3, 2, 2
    theta = torch.zeros(shape or H * (d + 1) + C * (H + 1))
    with pytest.raises(ValueError, match=match):
        permute_hidden_units(theta, perm, d, C)
