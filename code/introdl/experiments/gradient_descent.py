"""Experiments of the chapter "Loss optimization and gradient descent": three
trained networks that span a plane of the loss landscape, and the minima that
gradient descent reaches from several starts."""

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_ndim, check_number, check_tensor
from introdl.landscape import tiny_mlp
from introdl.optim import SGD
from introdl.training import fit

__all__ = ["train_solutions", "distinct_minima"]


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
