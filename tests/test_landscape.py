import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.landscape import (
    PlaneLoss,
    bumpy_loss,
    descend_from_starts,
    gradient_descent,
    loss_grid,
    mlp_loss,
    rosenbrock,
    tiny_mlp,
)

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


def test_rosenbrock_minimum():
    w = torch.tensor([1.0, 1.0], requires_grad=True)
    loss = rosenbrock(w)
    loss.backward()
    assert loss.item() == 0 and w.grad.abs().max() == 0
    assert rosenbrock(torch.zeros(4, 2)).shape == (4,)


def test_tiny_mlp_equals_pytorch_default_initialisation_under_the_seed():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        expected = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(),
                                       torch.nn.Linear(5, 3))
    before = torch.random.get_rng_state()
    ours = tiny_mlp(6, 5, 3, seed=7)
    assert torch.equal(before, torch.random.get_rng_state())  # left alone
    for a, b in zip(ours.parameters(), expected.parameters()):
        assert torch.equal(a, b)


def test_tiny_mlp_follows_the_default_device():
    with torch.device("meta"):
        model = tiny_mlp(5, 4, 3)
        out = model(torch.empty(2, 5))
    assert model[0].weight.device.type == "meta" and out.shape == (2, 3)


# --- misuse ----------------------------------------------------------------------

def test_tiny_mlp_misuse():
    with pytest.raises(ValueError, match="hidden_size must be > 0"):
        tiny_mlp(hidden_size=0)
    with pytest.raises(TypeError, match="in_features must be an int"):
        tiny_mlp(in_features=6.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        tiny_mlp(seed=None)


@pytest.mark.parametrize("theta, X, y, error, match", [
    ([0.0] * 59, None, None, TypeError, "theta must be a torch.Tensor"),
    (torch.zeros(59, dtype=torch.long), None, None, TypeError, "theta must have a"),
    (torch.zeros(59), "X", None, TypeError, "X must be a torch.Tensor"),
    (torch.zeros(59), torch.zeros(6), None, ValueError, "X must have 2"),
    (torch.zeros(()), None, None, ValueError, "theta must have 59 entries"),
    (torch.zeros(59), None, [0, 1], ValueError, "y n > 0 int64 labels"),
    (torch.zeros(59), None, torch.zeros(30), ValueError, "int64 labels"),
    (torch.zeros(59), None, torch.full((30,), 4), ValueError, "labels below C"),
    (torch.zeros(59), None, torch.full((30,), -1), ValueError, "labels below C"),
    (torch.zeros(59), torch.zeros(0, 6), torch.zeros(0, dtype=torch.long),
     ValueError, "n > 0"),
])
def test_mlp_loss_misuse(theta, X, y, error, match):
    X0, y0 = _data()
    X = X0.float() if X is None else X
    y = y0 if y is None else y
    with pytest.raises(error, match=match):
        mlp_loss(theta, X, y, hidden_size=5, num_classes=4)


def test_mlp_loss_handles_empty_batches_of_networks():
    X, y = _data()
    assert mlp_loss(torch.zeros(0, 59, dtype=torch.float64), X, y, 5, 4).shape == (0,)
    with pytest.raises(TypeError, match="hidden_size must be an int"):
        mlp_loss(torch.zeros(59), X.float(), y, hidden_size=5.0, num_classes=4)


def test_plane_loss_misuse_and_generators():
    X, y = _data(C=4)
    thetas = [torch.randn(59, dtype=torch.float64) for _ in range(3)]
    f = PlaneLoss(iter(thetas), X, y, hidden_size=5)  # a generator is kept
    assert len(f.thetas) == 3
    torch.testing.assert_close(f(torch.zeros(2, dtype=torch.float64)),
                               f(torch.zeros(2, dtype=torch.float64)))
    with pytest.raises(ValueError, match=r"not enough values .*\(expected 3, got 2\)"):
        PlaneLoss(thetas[:2], X, y, hidden_size=5)
    with pytest.raises(ValueError, match=r"ab must have size 2 in its last dimension"):
        f(torch.zeros(3, dtype=torch.float64))
    assert f(torch.zeros(0, 2, dtype=torch.float64)).shape == (0,)


def test_loss_grid_misuse():
    with pytest.raises(ValueError, match="num must be > 0"):
        loss_grid(rosenbrock, num=0)
    with pytest.raises(ValueError, match="chunk must be > 0"):
        loss_grid(rosenbrock, chunk=0)
    with pytest.raises(TypeError, match=r"a_range\[0\] must be a real number"):
        loss_grid(rosenbrock, a_range=("a", 1.0))
    with pytest.raises(ValueError, match=r"f must map points \(4, 2\) to values"):
        loss_grid(lambda p: p.sum(), num=2)  # one number, not one per point
    A, B, L = loss_grid(rosenbrock, num=1)
    assert A.shape == B.shape == L.shape == (1, 1)


@pytest.mark.parametrize("f, w0, lr, num_steps, error, match", [
    (lambda w: w ** 2, 1.0, 0.1, 3, TypeError, "w0 must be a torch.Tensor, got float"),
    (lambda w: w ** 2, torch.tensor(1), 0.1, 3, TypeError, "w0 must have a floating"),
    (lambda w: w ** 2, torch.tensor(1.0), None, 3, TypeError, "lr must be a real"),
    (lambda w: w ** 2, torch.tensor(1.0), float("nan"), 3, ValueError, "lr must lie"),
    (lambda w: w ** 2, torch.tensor(1.0), 0.1, 2.5, TypeError, "num_steps must be an"),
    (lambda w: w ** 2, torch.ones(3), 0.1, 3, ValueError, "f must return a 0-d"),
    (lambda w: 1.0, torch.tensor(1.0), 0.1, 3, ValueError, "f must return a 0-d"),
    (lambda w: torch.tensor(1.0), torch.tensor(1.0), 0.1, 3, ValueError,
     "computed from w"),
])
def test_gradient_descent_misuse(f, w0, lr, num_steps, error, match):
    with pytest.raises(error, match=match):
        gradient_descent(f, w0, lr, num_steps)


def test_gradient_descent_edge_cases():
    path, losses = gradient_descent(lambda w: (w ** 2).sum(), torch.tensor([2.0]),
                                    0.0, 3)  # lr = 0 stands still
    assert path.shape == (4, 1) and (path == 2.0).all()
    path, losses = gradient_descent(lambda w: (w ** 2).sum(), torch.zeros(0), 0.1, 2)
    assert path.shape == (3, 0) and losses.tolist() == [0.0, 0.0, 0.0]
    path, losses = gradient_descent(lambda w: w.sum() * float("nan"),
                                    torch.ones(2), 0.1, 5)
    assert path.shape == (1, 2) and losses[0].isnan()  # stops at once
    w0 = torch.tensor([1.0], requires_grad=True)
    gradient_descent(lambda w: (w ** 2).sum(), w0, 0.1, 2)
    assert w0.grad is None and w0.item() == 1.0  # the start is left alone


def test_descend_from_starts_misuse():
    with pytest.raises(ValueError, match="starts must have 2"):
        descend_from_starts(rosenbrock, torch.zeros(2), 0.1, 3)
    with pytest.raises(ValueError, match=r"f must map points \(3, 2\) to losses"):
        descend_from_starts(lambda W: W.sum(), torch.zeros(3, 2), 0.1, 3)


@pytest.mark.parametrize("f", [bumpy_loss, rosenbrock])
def test_test_functions_misuse(f):
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        f([1.0, 1.0])
    with pytest.raises(TypeError, match="floating"):
        f(torch.tensor([1, 1]))
    assert f(torch.zeros(0, 2)).shape[0] == 0


def test_rosenbrock_needs_pairs():
    with pytest.raises(ValueError, match=r"w must have shape \(\.\.\., 2\)"):
        rosenbrock(torch.zeros(3))
    assert rosenbrock(torch.tensor([1.0, 1.0])).shape == ()


@given(st.floats(-1e3, 1e3), st.floats(0, 0.5))
@settings(max_examples=40, deadline=None)
def test_gradient_descent_on_a_parabola_never_diverges_below_the_limit(w, lr):
    # J = w^2 / 2 has curvature 1: every lr < 2 converges, and lr <= 1/2 monotonically
    path, losses = gradient_descent(lambda v: 0.5 * v ** 2,
                                    torch.tensor(w, dtype=torch.float64), lr, 10)
    assert (losses[1:] <= losses[:-1]).all()
