import pytest
import torch

from introdl.experiments.gradient_descent import distinct_minima, train_solutions
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
