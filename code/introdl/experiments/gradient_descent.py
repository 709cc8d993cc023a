"""Experiments of the chapter "Loss optimization and gradient descent": three
trained networks that span a plane of the loss landscape, the minima that
gradient descent reaches from several starts, the saddle point of the plane, and
the permutations of hidden units that leave a network's loss unchanged."""

from collections.abc import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_ndim, check_number, check_positive_int, check_tensor
from introdl.landscape import mlp_loss, tiny_mlp
from introdl.optim import SGD
from introdl.training import fit

__all__ = ["train_solutions", "distinct_minima", "critical_point", "full_gradient_norm",
           "permute_hidden_units"]


def train_solutions(X: torch.Tensor, y: torch.Tensor, seeds: Iterable[int] = (1, 2, 3),
                    hidden_size: int = 8, num_epochs: int = 300,
                    lr: float = 1.0) -> list[torch.Tensor]:
    """Train one :func:`~introdl.landscape.tiny_mlp` per seed by full-batch
    gradient descent (the book's loop :func:`~introdl.training.fit` with
    :class:`~introdl.optim.SGD`).

    Returns:
        One flat parameter vector ``(P,)`` per seed, in the layout of
        :func:`~introdl.landscape.mlp_loss`.
    """
    check_ndim("X", check_tensor("X", X, floating=True), (2,))
    check_tensor("y", y)
    thetas = []
    for seed in seeds:
        model = tiny_mlp(X.shape[1], hidden_size, int(y.max()) + 1, seed=seed)
        fit(model, (X, y), loss_fn=F.cross_entropy,
            optimizer=SGD(model.parameters(), lr=lr),
            num_epochs=num_epochs, generator=torch.Generator().manual_seed(seed))
        thetas.append(nn.utils.parameters_to_vector(model.parameters()).detach())
    if not thetas:
        raise ValueError("seeds must hold at least one seed")
    return thetas


def distinct_minima(points: torch.Tensor,
                    tol: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Group end points that lie within ``tol`` of each other.

    Args:
        points: ``(k, d)`` end points of gradient-descent runs, ``k >= 1``.
    Returns:
        ``(centres, labels)``: ``centres`` ``(m, d)``, one per group in order of
        first appearance, and ``labels`` ``(k,)``, each point's group.
    """
    check_ndim("points", check_tensor("points", points, floating=True), (2,))
    check_number("tol", tol, low=0, low_open=True)
    if not len(points):
        raise ValueError("points must hold at least one point, got none")
    centres, labels = [], []
    for p in points:
        dists = [torch.linalg.vector_norm(p - c).item() for c in centres]
        if dists and min(dists) < tol:
            labels.append(dists.index(min(dists)))
        else:
            centres.append(p)
            labels.append(len(centres) - 1)
    return torch.stack(centres), torch.tensor(labels, device=points.device)


def critical_point(f: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor,
                   num_steps: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Newton's method on the gradient of ``f``: the critical point (gradient
    zero) nearest ``start``, whether a minimum, a maximum or a saddle point.

    Args:
        f: maps a point ``(d,)`` to a 0-d value, twice differentiable.
        start: ``(d,)``; use float64, Newton's steps need the precision.
    Returns:
        ``(point, curvatures)``: the point ``(d,)`` and the eigenvalues of the
        Hessian there, ascending ``(d,)``: all positive at a minimum, of both
        signs at a saddle point.
    """
    check_ndim("start", check_tensor("start", start, floating=True), (1,))
    check_positive_int("num_steps", num_steps)
    point = start.detach().clone()
    for _ in range(num_steps):
        grad = torch.autograd.functional.jacobian(f, point)  # (d,)
        hessian = torch.autograd.functional.hessian(f, point)  # (d, d)
        point = point - torch.linalg.solve(hessian, grad)
    hessian = torch.autograd.functional.hessian(f, point)
    return point, torch.linalg.eigvalsh(hessian)


def full_gradient_norm(theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                       hidden_size: int) -> float:
    """Length of the gradient of :func:`~introdl.landscape.mlp_loss` with respect
    to all ``P`` weights ``theta`` ``(P,)``: zero only at a critical point of the
    whole landscape."""
    theta = check_tensor("theta", theta, floating=True).detach().requires_grad_(True)
    num_classes = int(y.max()) + 1
    (grad,) = torch.autograd.grad(mlp_loss(theta, X, y, hidden_size, num_classes),
                                  theta)
    return torch.linalg.vector_norm(grad).item()


def permute_hidden_units(theta: torch.Tensor, perm: Sequence[int], in_features: int,
                         num_classes: int = 10) -> torch.Tensor:
    """The same network with its hidden units relabelled: unit ``perm[j]`` of
    ``theta`` becomes unit ``j`` (row of ``W1``, entry of ``b1``, column of
    ``W2``). ``theta`` ``(P,)`` in the layout of
    :func:`~introdl.landscape.mlp_loss`, ``perm`` a permutation of
    ``range(hidden_size)``. Returns a new ``(P,)`` vector with the same loss."""
    H, d, C = len(perm), in_features, num_classes
    if sorted(perm) != list(range(H)) or theta.shape != (H * (d + 1) + C * (H + 1),):
        raise ValueError(f"perm must be a permutation of 0..H-1 and theta of shape "
                         f"(H (d + 1) + C (H + 1),) for H={H}, d={d}, C={C}; got "
                         f"{list(perm)} and {tuple(theta.shape)}")
    perm = torch.as_tensor(perm, device=theta.device)
    W1, b1, W2, b2 = theta.split([H * d, H, C * H, C])
    W1, W2 = W1.view(H, d)[perm], W2.view(C, H)[:, perm]  # (H, d), (C, H)
    return torch.cat([W1.flatten(), b1[perm], W2.flatten(), b2])
