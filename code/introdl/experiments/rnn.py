"""Experiments of the chapter "Recurrent neural networks": how long a recurrent
network remembers its first input. (The chapter trains its tagger with
:func:`introdl.experiments.sequence_modeling.train_echo_models`.)"""

from collections.abc import Callable

import torch

from introdl.checks import check_ndim, check_tensor

__all__ = ["first_input_influence"]


@torch.no_grad()
def first_input_influence(rnn: Callable, X: torch.Tensor) -> torch.Tensor:
    """How long does a recurrent network remember its first input?

    Runs ``rnn`` (a module returning ``(states (B, T, H), ...)``, as ``RNN`` does)
    on one-hot sequences ``X (B, T, K)`` and on copies whose first symbol is
    shifted by one in the alphabet; returns the mean distance between the two
    hidden states at each step, ``(T,)``. Raises ValueError for an empty ``X``.
    """
    check_ndim("X", check_tensor("X", X, floating=True), (3,))
    if 0 in X.shape:
        raise ValueError(f"X must not be empty, got shape {tuple(X.shape)}")
    X2 = X.clone()
    X2[:, 0] = X[:, 0].roll(1, dims=-1)  # another symbol at step 0 only
    hs, hs2 = rnn(X)[0], rnn(X2)[0]  # (B, T, H) each
    return (hs - hs2).norm(dim=-1).mean(dim=0)  # (T,)
