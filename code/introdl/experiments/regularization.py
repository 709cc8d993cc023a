"""Experiments of the chapter "Regularization": an over-sized network on a few
noisy digits, trained with the book's loop :func:`introdl.training.fit`."""

import torch
import torch.nn.functional as F
from torch import nn

from introdl.checks import check_positive_int
from introdl.regularization import Dropout
from introdl.training import History, accuracy, fit

__all__ = ["digits_mlp", "train_digits"]


def digits_mlp(hidden_size: int = 256, p: float = 0.0, seed: int = 0) -> nn.Sequential:
    """An over-sized network for the digits: ``64 -> H -> H -> 10`` with ReLU
    and a :class:`~introdl.regularization.Dropout` of probability ``p`` after
    each hidden layer.

    The weights come from ``seed`` (PyTorch's global random state is left as it
    was) and the dropout masks from a generator seeded with ``seed``, so a run
    can be repeated exactly. Parameter names do not depend on ``p``.
    """
    check_positive_int("hidden_size", hidden_size)
    check_positive_int("seed", seed, allow_zero=True)
    masks = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # seed the weights, then restore
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(64, hidden_size), nn.ReLU(), Dropout(p, masks),
            nn.Linear(hidden_size, hidden_size), nn.ReLU(), Dropout(p, masks),
            nn.Linear(hidden_size, 10))


def train_digits(model: nn.Module, split, *, num_epochs: int, lr: float = 3e-3,
                 batch_size: int = 50, early_stopping=None,
                 restore_best: bool = False, seed: int = 0) -> History:
    """Train ``model`` on ``split.train`` with Adam and cross-entropy, watching
    ``split.val``, with :func:`~introdl.training.fit`; return its ``History``
    (losses, and accuracies as the metric). The mini-batches are shuffled
    from ``seed``."""
    return fit(model, split.train, split.val, loss_fn=F.cross_entropy,
               optimizer=torch.optim.Adam(model.parameters(), lr=lr),
               num_epochs=num_epochs, batch_size=batch_size, metric=accuracy,
               early_stopping=early_stopping, restore_best=restore_best,
               generator=torch.Generator().manual_seed(seed))
