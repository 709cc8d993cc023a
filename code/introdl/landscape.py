"""Loss landscapes and gradient descent.

A network has far too many weights to draw its loss directly. We draw it on a
plane through three networks trained from different random starts,
``theta(a, b) = theta_A + a (theta_B - theta_A) + b (theta_C - theta_A)``: a
model with just two parameters, ``a`` and ``b``, whose loss is the real loss
of a real network on real data. Also plain gradient descent, and two small
landscapes to run it on (:func:`bumpy_loss`, :func:`rosenbrock`).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor

__all__ = ["tiny_mlp", "mlp_loss", "PlaneLoss", "loss_grid", "gradient_descent",
           "descend_from_starts", "bumpy_loss", "rosenbrock"]


def tiny_mlp(in_features: int = 64, hidden_size: int = 8, num_classes: int = 10,
             seed: int = 0) -> nn.Sequential:
    """``Linear(in_features, hidden_size) -> Tanh -> Linear(hidden_size,
    num_classes)``, initialised as PyTorch does, from a generator seeded with
    ``seed`` (the same weights as ``torch.manual_seed(seed)`` followed by the
    default construction; torch's global generator is left alone)."""
    sizes = [check_positive_int(name, value) for name, value in (
        ("in_features", in_features), ("hidden_size", hidden_size),
        ("num_classes", num_classes))]
    check_positive_int("seed", seed, allow_zero=True)
    gen = torch.Generator().manual_seed(seed)
    layers = []
    for m_in, m_out in zip(sizes[:-1], sizes[1:]):
        linear = nn.utils.skip_init(nn.Linear, m_in, m_out,  # no global RNG draws
                                    device=torch.get_default_device())
        nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(m_in)  # nn.Linear.reset_parameters, with our generator
        nn.init.uniform_(linear.bias, -bound, bound, generator=gen)
        layers.append(linear)
    return nn.Sequential(layers[0], nn.Tanh(), layers[1])


def mlp_loss(theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
             hidden_size: int, num_classes: int = 10) -> torch.Tensor:
    """Mean cross-entropy of a ``d -> H (tanh) -> C`` network with flat parameters.

    ``theta`` ``(..., P)`` holds ``W1`` ``(H, d)``, ``b1`` ``(H,)``, ``W2`` ``(C, H)``
    and ``b2`` ``(C,)`` in turn, ``P = H (d + 1) + C (H + 1)`` (the order of
    ``parameters_to_vector``); leading dimensions are a batch of networks.
    ``X`` ``(n, d)``, ``y`` ``(n,)`` int64. Returns the losses, shape ``(...)``.
    """
    check_tensor("theta", theta, floating=True)
    check_ndim("X", check_tensor("X", X, floating=True), (2,))
    H = check_positive_int("hidden_size", hidden_size)
    C = check_positive_int("num_classes", num_classes)
    d, P = X.shape[1], H * (X.shape[1] + 1) + C * (H + 1)
    if (theta.shape[-1:] != (P,) or getattr(y, "shape", None) != X.shape[:1]
            or not len(X) or y.dtype != torch.int64 or ((y < 0) | (y >= C)).any()):
        raise ValueError(f"theta must have {P} entries in its last dimension for "
                         f"d={d}, H={H}, C={C}, and y n > 0 int64 labels below C; got "
                         f"theta {tuple(theta.shape)}, X {tuple(X.shape)}, y {y!r:.60}")
    W1, b1, W2, b2 = theta.split([H * d, H, C * H, C], dim=-1)
    W1 = W1.unflatten(-1, (H, d))  # (..., H, d)
    W2 = W2.unflatten(-1, (C, H))  # (..., C, H)
    A = torch.tanh(X @ W1.mT + b1.unsqueeze(-2))  # (..., n, H)
    Z = A @ W2.mT + b2.unsqueeze(-2)  # (..., n, C)
    log_p = Z.log_softmax(dim=-1)  # (..., n, C)
    picked = log_p.gather(-1, y.expand(Z.shape[:-1]).unsqueeze(-1))  # (..., n, 1)
    return -picked.squeeze(-1).mean(dim=-1)  # (...)


@dataclass
class PlaneLoss:
    """The loss on the plane through three parameter vectors.

    ``f(a, b) = J(theta_A + a (theta_B - theta_A) + b (theta_C - theta_A))``,
    so ``(0, 0)``, ``(1, 0)`` and ``(0, 1)`` are the three networks.
    """

    thetas: tuple  # three flat parameter vectors, each (P,)
    X: torch.Tensor  # (n, d)
    y: torch.Tensor  # (n,)
    hidden_size: int

    def __post_init__(self):
        # three vectors, from a tuple, a list or a generator; Python says
        # "expected 3" for another number
        tA, tB, tC = self.thetas
        self.thetas = (tA, tB, tC)

    def theta(self, ab: torch.Tensor) -> torch.Tensor:
        """Parameters at plane coordinates ``ab`` ``(..., 2)`` -> ``(..., P)``."""
        check_tensor("ab", ab, last_dim=2)
        tA, tB, tC = self.thetas
        return tA + ab[..., :1] * (tB - tA) + ab[..., 1:] * (tC - tA)

    def __call__(self, ab: torch.Tensor) -> torch.Tensor:
        """The loss at ``ab`` ``(..., 2)``, shape ``(...)``."""
        num_classes = int(self.y.max()) + 1
        return mlp_loss(self.theta(ab), self.X, self.y, self.hidden_size, num_classes)


@torch.no_grad()
def loss_grid(f: Callable[[torch.Tensor], torch.Tensor], a_range=(-1.0, 1.0),
              b_range=(-1.0, 1.0), num: int = 50, chunk: int = 512):
    """Evaluate ``f`` on a ``num x num`` grid of points ``(a, b)``.

    Args:
        f: maps points ``(m, 2)`` to values ``(m,)``.
        a_range, b_range: ``(low, high)`` of each coordinate.
        chunk: points per call of ``f`` (bounds the memory used).
    Returns:
        ``(A, B, L)``, each ``(num, num)``: coordinates and values, ready for
        ``contour``.
    Raises:
        ValueError: if ``f`` does not return one value per point.
    """
    check_positive_int("num", num)
    check_positive_int("chunk", chunk)
    (a_low, a_high), (b_low, b_high) = a_range, b_range
    a = torch.linspace(check_number("a_range[0]", a_low),
                       check_number("a_range[1]", a_high), num)
    b = torch.linspace(check_number("b_range[0]", b_low),
                       check_number("b_range[1]", b_high), num)
    A, B = torch.meshgrid(a, b, indexing="xy")  # (num, num) each
    points = torch.stack([A.ravel(), B.ravel()], dim=1)  # (num * num, 2)
    values = []
    for p in points.split(chunk):
        out = f(p)
        if getattr(out, "shape", None) != (len(p),):
            raise ValueError(f"f must map points ({len(p)}, 2) to values "
                             f"({len(p)},), got {getattr(out, 'shape', out)}")
        values.append(out)
    return A, B, torch.cat(values).reshape(A.shape)


def gradient_descent(f: Callable[[torch.Tensor], torch.Tensor], w0: torch.Tensor,
                     lr: float, num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain gradient descent, ``w <- w - lr * grad f(w)``, with autograd's gradient.

    ``f`` maps parameters shaped like ``w0`` to a 0-d loss. Returns ``(path,
    losses)``: every iterate, ``(T + 1, *w0.shape)``, and its loss, ``(T + 1,)``,
    with ``T = num_steps`` unless the loss stopped being finite earlier.
    """
    check_tensor("w0", w0, floating=True)
    check_number("lr", lr, low=0)
    check_positive_int("num_steps", num_steps)
    w = w0.detach().clone().requires_grad_(True)
    path, losses = [], []
    for step in range(num_steps + 1):
        loss = f(w)
        if not (torch.is_tensor(loss) and loss.ndim == 0 and loss.requires_grad):
            raise ValueError(f"f must return a 0-d tensor computed from w, got {loss}")
        path.append(w.detach().clone())
        losses.append(loss.item())
        if not torch.isfinite(loss) or step == num_steps:
            break  # the last iterate, or a diverged run
        (grad,) = torch.autograd.grad(loss, w)  # same shape as w
        with torch.no_grad():
            w -= lr * grad  # the step: against the gradient
    return torch.stack(path), torch.tensor(losses, dtype=w0.dtype, device=w0.device)


def descend_from_starts(f: Callable[[torch.Tensor], torch.Tensor],
                        starts: torch.Tensor, lr: float,
                        num_steps: int) -> list[torch.Tensor]:
    """Run :func:`gradient_descent` from each row of ``starts``, all at once.

    The runs are independent: the gradient of ``f(W).sum()`` with respect to
    row ``i`` of ``W`` is the gradient of ``f`` at that row alone. A run whose
    loss stops being finite stops all of them.

    Args:
        f: maps points ``(k, d)`` to losses ``(k,)``.
        starts: ``(k, d)`` starting points.
    Returns:
        A list of ``k`` paths, each ``(T + 1, d)``.
    """
    check_ndim("starts", check_tensor("starts", starts, floating=True), (2,))

    def total(W: torch.Tensor) -> torch.Tensor:
        losses = f(W)
        if getattr(losses, "shape", None) != W.shape[:1]:
            raise ValueError(f"f must map points {tuple(W.shape)} to losses "
                             f"({len(W)},), got {getattr(losses, 'shape', losses)}")
        return losses.sum()

    paths, _ = gradient_descent(total, starts, lr, num_steps)
    return list(paths.unbind(dim=1))  # k tensors (T + 1, d)


def bumpy_loss(w: torch.Tensor) -> torch.Tensor:
    """A one-weight landscape with a narrow local minimum and a wide global one.

    ``J(w) = (w - 1.5)**2 / 4 - 1.5 exp(-(w + 2.2)**2 / 0.18)``: a broad bowl
    with its global minimum near ``w = 1.5`` (``J`` close to 0) and a narrow
    dent near ``w = -2.1`` (a local minimum with ``J`` about 1.8).
    Elementwise: any shape in, the same shape out.
    """
    check_tensor("w", w, floating=True)
    return (w - 1.5) ** 2 / 4 - 1.5 * torch.exp(-(w + 2.2) ** 2 / 0.18)


def rosenbrock(w: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's function ``(1 - x)**2 + 100 (y - x**2)**2`` of ``w = (x, y)``.

    Its minimum, 0 at ``(1, 1)``, lies at the bottom of a long, narrow, curved
    valley. ``w``: ``(..., 2)`` -> ``(...)``.
    """
    check_tensor("w", w, floating=True)
    if w.shape[-1:] != (2,):
        raise ValueError(f"w must have shape (..., 2), got {tuple(w.shape)}")
    x, y = w[..., 0], w[..., 1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
