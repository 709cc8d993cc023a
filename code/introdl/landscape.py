"""Loss landscapes and gradient descent (chapter "Loss optimization and gradient
descent").

A network has far too many weights to draw its loss directly. We draw it on a
plane through three networks trained from different random starts,
``theta(a, b) = theta_A + a (theta_B - theta_A) + b (theta_C - theta_A)``: a
model with just two parameters, ``a`` and ``b``, whose loss is the real loss
of a real network on real data (the 8x8 digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from matplotlib.ticker import MaxNLocator

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor
from introdl.figures.style import LINESTYLES, PALETTE, new_figure

__all__ = ["tiny_mlp", "mlp_loss", "train_solutions", "PlaneLoss", "loss_grid",
           "gradient_descent", "descend_from_starts", "distinct_minima",
           "plot_loss_surface", "plot_loss_contours", "bumpy_loss", "rosenbrock",
           "plot_learning_rates"]


def tiny_mlp(in_features: int = 64, hidden_size: int = 8, num_classes: int = 10,
             seed: int = 0) -> torch.nn.Sequential:
    """``Linear(in_features, hidden_size) -> Tanh -> Linear(hidden_size,
    num_classes)`` with PyTorch's default initialisation drawn from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(in_features, hidden_size),
                                   torch.nn.Tanh(),
                                   torch.nn.Linear(hidden_size, num_classes))


def mlp_loss(theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
             hidden_size: int, num_classes: int = 10) -> torch.Tensor:
    """Mean cross-entropy of :func:`tiny_mlp` with flat parameters ``theta``.

    ``theta`` holds the parameters in the order of
    ``torch.nn.utils.parameters_to_vector(tiny_mlp(...).parameters())``:
    ``W1`` ``(H, d)``, ``b1`` ``(H,)``, ``W2`` ``(C, H)``, ``b2`` ``(C,)``.
    Leading dimensions of ``theta`` are a batch of networks.

    Args:
        theta: ``(..., P)`` with ``P = H (d + 1) + C (H + 1)``.
        X: inputs ``(n, d)``; y: class indices ``(n,)``.
    Returns:
        The loss of each network, shape ``(...)``.
    Raises:
        ValueError: if ``theta``'s last dimension is not ``P``.
    """
    d, H, C = X.shape[1], hidden_size, num_classes
    P = H * (d + 1) + C * (H + 1)
    if theta.shape[-1] != P:
        raise ValueError(f"theta must have {P} entries in its last dimension for "
                         f"d={d}, hidden_size={H}, num_classes={C}, got "
                         f"{tuple(theta.shape)}")
    W1, b1, W2, b2 = theta.split([H * d, H, C * H, C], dim=-1)
    W1 = W1.unflatten(-1, (H, d))  # (..., H, d)
    W2 = W2.unflatten(-1, (C, H))  # (..., C, H)
    A = torch.tanh(X @ W1.mT + b1.unsqueeze(-2))  # (..., n, H)
    Z = A @ W2.mT + b2.unsqueeze(-2)  # (..., n, C)
    log_p = Z.log_softmax(dim=-1)  # (..., n, C)
    picked = log_p.gather(-1, y.expand(Z.shape[:-1]).unsqueeze(-1))  # (..., n, 1)
    return -picked.squeeze(-1).mean(dim=-1)  # (...)


def train_solutions(X: torch.Tensor, y: torch.Tensor, seeds=(1, 2, 3),
                    hidden_size: int = 8, num_epochs: int = 300,
                    lr: float = 1.0) -> list[torch.Tensor]:
    """Train one :func:`tiny_mlp` per seed by full-batch gradient descent.

    Uses the book's loop :func:`introdl.training.fit` with
    :class:`introdl.optim.SGD` (the same rule as ``torch.optim.SGD``).

    Returns:
        One flat parameter vector ``(P,)`` per seed (see :func:`mlp_loss`).
    """
    from introdl.optim import SGD
    from introdl.training import fit

    thetas = []
    for seed in seeds:
        model = tiny_mlp(X.shape[1], hidden_size, int(y.max()) + 1, seed=seed)
        fit(model, (X, y), loss_fn=torch.nn.functional.cross_entropy,
            optimizer=SGD(model.parameters(), lr=lr),
            num_epochs=num_epochs, generator=torch.Generator().manual_seed(seed))
        thetas.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach())
    return thetas


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

    def theta(self, ab: torch.Tensor) -> torch.Tensor:
        """Parameters at plane coordinates ``ab`` ``(..., 2)`` -> ``(..., P)``."""
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
        chunk: points per call of ``f`` (bounds the memory used).
    Returns:
        ``(A, B, L)``, each ``(num, num)``: coordinates and values, ready for
        ``contour``.
    """
    check_positive_int("num", num)
    a = torch.linspace(*a_range, num)
    b = torch.linspace(*b_range, num)
    A, B = torch.meshgrid(a, b, indexing="xy")  # (num, num) each
    points = torch.stack([A.ravel(), B.ravel()], dim=1)  # (num * num, 2)
    L = torch.cat([f(p) for p in points.split(chunk)])  # (num * num,)
    return A, B, L.reshape(A.shape)


def gradient_descent(f: Callable[[torch.Tensor], torch.Tensor], w0: torch.Tensor,
                     lr: float, num_steps: int):
    """Plain gradient descent, ``w <- w - lr * grad f(w)``.

    The gradient comes from ``torch.autograd`` (see the chapter on
    backpropagation). The run stops early if the loss stops being finite.

    Args:
        f: maps parameters of ``w0``'s shape to a scalar loss.
        w0: starting point, any shape.
        lr: the learning rate (step size), ``>= 0``.
    Returns:
        ``(path, losses)``: ``path`` ``(T + 1, *w0.shape)`` holds every iterate
        from ``w0`` on and ``losses`` ``(T + 1,)`` the loss at each, with
        ``T = num_steps`` unless the loss became infinite or NaN.
    """
    check_tensor("w0", w0, floating=True)
    check_number("lr", lr, low=0)
    check_positive_int("num_steps", num_steps)
    w = w0.detach().clone().requires_grad_(True)
    path, losses = [], []
    for _ in range(num_steps + 1):
        loss = f(w)
        path.append(w.detach().clone())
        losses.append(loss.item())
        if not torch.isfinite(loss) or len(path) == num_steps + 1:
            break
        (grad,) = torch.autograd.grad(loss, w)  # same shape as w
        with torch.no_grad():
            w -= lr * grad  # the step: against the gradient
    return torch.stack(path), torch.tensor(losses, dtype=w0.dtype)


def descend_from_starts(f, starts: torch.Tensor, lr: float, num_steps: int):
    """Run :func:`gradient_descent` from each row of ``starts``, all at once.

    The runs are independent: the gradient of ``f(W).sum()`` with respect to
    row ``i`` of ``W`` is the gradient of ``f`` at that row alone.

    Args:
        f: maps points ``(k, d)`` to losses ``(k,)``.
        starts: ``(k, d)`` starting points.
    Returns:
        A list of ``k`` paths, each ``(T + 1, d)``.
    """
    check_tensor("starts", starts, floating=True)
    check_ndim("starts", starts, (2,))
    paths, _ = gradient_descent(lambda W: f(W).sum(), starts, lr, num_steps)
    return list(paths.unbind(dim=1))  # k tensors (T + 1, d)


def distinct_minima(points: torch.Tensor, tol: float = 0.1):
    """Group end points that lie within ``tol`` of each other.

    Args:
        points: ``(k, d)`` end points of gradient-descent runs.
    Returns:
        ``(centres, labels)``: ``centres`` ``(m, d)``, one per group in order of
        first appearance, and ``labels`` ``(k,)``, each point's group.
    """
    check_number("tol", tol, low=0, low_open=True)
    centres, labels = [], []
    for p in points:
        dists = [torch.linalg.vector_norm(p - c).item() for c in centres]
        if dists and min(dists) < tol:
            labels.append(dists.index(min(dists)))
        else:
            centres.append(p)
            labels.append(len(centres) - 1)
    return torch.stack(centres), torch.tensor(labels)


def plot_loss_surface(A, B, L, *, marks: Mapping[str, tuple] | None = None, ax=None,
                      xlabel: str = "$a$", ylabel: str = "$b$",
                      zlabel: str = "loss $J$"):
    """A 3-D surface of the loss ``L`` over the grid ``(A, B)``.

    Args:
        A, B, L: ``(m, m)`` arrays, as :func:`loss_grid` returns them.
        marks: label -> ``(a, b)`` points to mark on the surface.
        ax: a 3-D axes (``projection="3d"``); a new figure if ``None``.
    Returns:
        The ``Figure``.
    """
    if ax is None:
        fig, ax = new_figure(width=5.6, height=4.2,
                             subplot_kw={"projection": "3d"})
    fig = ax.figure
    ax.plot_surface(A.numpy(), B.numpy(), L.numpy(), cmap="viridis", linewidth=0,
                    antialiased=False, rstride=1, cstride=1, alpha=0.95,
                    rasterized=True)
    for label, (a, b) in (marks or {}).items():
        i = int(((A[0] - a).abs()).argmin())
        j = int(((B[:, 0] - b).abs()).argmin())
        z = float(L[j, i])
        ax.plot([a, a], [b, b], [z, z + 0.35 * float(L.max() - L.min())],
                color="black", linewidth=1.0, zorder=10)
        ax.text(a, b, z + 0.4 * float(L.max() - L.min()), label, ha="center",
                fontsize=10, zorder=11)
    ax.set(xlabel=xlabel, ylabel=ylabel, zlabel=zlabel)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax.view_init(elev=45, azim=-140)
    return fig


def plot_loss_contours(A, B, L, *, paths: Mapping[str, torch.Tensor] | None = None,
                       marks: Mapping[str, tuple] | None = None, ax=None,
                       levels: int = 25, colors=None, title: str | None = None,
                       xlabel: str = "$a$", ylabel: str = "$b$",
                       cbar_label: str | None = "loss $J$", legend: bool = True):
    """Contour lines of ``L`` over ``(A, B)``, with optional descent paths.

    Args:
        paths: label -> ``(T + 1, 2)`` iterates; each is drawn from a circle
            (its start) to a cross (its end). Labels starting with ``_`` are
            left out of the legend.
        marks: label -> ``(a, b)`` points written on the map.
        colors: one colour per path (default: the book's palette).
        cbar_label: the colour bar's label (``None``: no colour bar).
        legend: draw the legend of the labelled paths.
    Returns:
        The ``Figure``.
    """
    fig, ax = (new_figure(width=5.0, height=4.2) if ax is None else (ax.figure, ax))
    filled = ax.contourf(A.numpy(), B.numpy(), L.numpy(), levels=levels,
                         cmap="Greys_r", alpha=0.45)
    ax.contour(A.numpy(), B.numpy(), L.numpy(), levels=filled.levels, colors="black",
               linewidths=0.4, alpha=0.6)
    if cbar_label is not None:
        fig.colorbar(filled, ax=ax, shrink=0.85, label=cbar_label)
    colors = colors or [PALETTE[i % len(PALETTE)] for i in range(len(paths or {}))]
    for (label, path), color in zip((paths or {}).items(), colors):
        p = path.detach()
        style = LINESTYLES[PALETTE.index(color) % len(LINESTYLES)] \
            if color in PALETTE else "-"
        ax.plot(p[:, 0], p[:, 1], color=color, linestyle=style, linewidth=1.6,
                label=label)
        ax.plot(p[0, 0], p[0, 1], "o", color=color, markeredgecolor="black",
                markersize=6)
        ax.plot(p[-1, 0], p[-1, 1], "X", color=color, markeredgecolor="black",
                markersize=8)
    for label, (a, b) in (marks or {}).items():
        ax.plot(a, b, "s", color="white", markeredgecolor="black", markersize=5)
        ax.annotate(label, (a, b), xytext=(5, 5), textcoords="offset points",
                    fontsize=10)
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(float(A.min()), float(A.max())),
           ylim=(float(B.min()), float(B.max())), aspect="equal")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.grid(False)
    if title:
        ax.set_title(title)
    if legend and paths and any(not k.startswith("_") for k in paths):
        ax.legend(loc="upper right", frameon=True, fontsize=8)
    return fig


def bumpy_loss(w: torch.Tensor) -> torch.Tensor:
    """A one-weight landscape with a narrow local minimum and a wide global one.

    ``J(w) = (w - 1.5)**2 / 4 - 1.5 exp(-(w + 2.2)**2 / 0.18)``: a broad bowl
    with its global minimum near ``w = 1.5`` (``J`` close to 0) and a narrow
    dent near ``w = -2.1`` (a local minimum with ``J`` about 1.8).
    Elementwise: any shape in, the same shape out.
    """
    return (w - 1.5) ** 2 / 4 - 1.5 * torch.exp(-(w + 2.2) ** 2 / 0.18)


def rosenbrock(w: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's function ``(1 - x)**2 + 100 (y - x**2)**2`` of ``w = (x, y)``.

    Its minimum, 0 at ``(1, 1)``, lies at the bottom of a long, narrow, curved
    valley. ``w``: ``(..., 2)`` -> ``(...)``.
    """
    x, y = w[..., 0], w[..., 1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def plot_learning_rates(f, runs: Mapping[str, tuple], w_range=(-4.5, 5.0),
                        y_max: float = 8.0):
    """Gradient descent with several learning rates on a one-weight loss ``f``.

    Args:
        runs: label -> ``(path, losses)`` as :func:`gradient_descent` returns.
        w_range: the weights shown in the left panel; ``y_max`` its top.
    Returns:
        The ``Figure``: left, ``f`` with each run's iterates (connected in
        order, larger markers early); right, the loss against the step.
    """
    import numpy as np

    fig, (ax_w, ax_l) = new_figure(ncols=2, height=3.2)
    w = torch.linspace(*w_range, 400, dtype=torch.float64)
    ax_w.plot(w, f(w), color="black", linewidth=1.2, linestyle="-")
    markers = ["o", "s", "^", "D"]
    finite = [l[torch.isfinite(l)] for _, l in runs.values()]
    f_min = min([float(f(w).min())] + [float(l.min()) for l in finite if len(l)])
    for i, (label, (path, losses)) in enumerate(runs.items()):
        color, style = PALETTE[i], LINESTYLES[i]
        p, l = path.numpy(), losses.numpy()
        shown = np.abs(p) < 1e3
        ax_w.plot(p[shown], l[shown], color=color, linestyle=style, linewidth=0.8,
                  marker=markers[i], markersize=4, alpha=0.9, label=label)
        ax_l.plot(np.arange(len(l)), np.maximum(l - f_min, 1e-12), color=color,
                  linestyle=style, marker=markers[i], markersize=3, label=label)
    ax_w.set(xlabel="weight $w$", ylabel="loss $J(w)$", xlim=w_range,
             ylim=(-0.5, y_max))
    ax_l.set(xlabel="step", ylabel="$J(w_t) - \\min J$", yscale="log")
    ax_l.legend(loc="center right", fontsize=8, frameon=True)
    return fig
