"""Experiments of the chapter "Attention".

- :func:`score_spread`: why attention divides its scores by ``sqrt(d_k)``;
- :func:`train_reversal`: a one-head attention model learns to reverse
  sequences, and its attention weights learn the reversal's alignment
  (measured by :func:`alignment_score`).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from introdl.attention import OneLayerAttention, scaled_dot_product_attention
from introdl.losses import sequence_accuracy, sequence_cross_entropy
from introdl.tasks import reversal_task
from introdl.training import History, fit

__all__ = ["ScoreSpread", "score_spread", "alignment_score", "ReversalRun",
           "train_reversal"]


@dataclass
class ScoreSpread:
    """What :func:`score_spread` measured: for each ``d_k``, the standard
    deviation of the raw dot products (``unscaled``) and of the scaled ones
    (``scaled``); and one query's softmax weights over ``num_keys`` keys at
    the largest ``d_k``, without and with the scaling."""

    d_k: list[int]
    unscaled: list[float]
    scaled: list[float]
    weights_unscaled: torch.Tensor
    weights_scaled: torch.Tensor


def score_spread(d_ks: Sequence[int] = (4, 16, 64, 256, 1024), n: int = 2000,
                 num_keys: int = 8, seed: int = 0) -> ScoreSpread:
    """Why divide by ``sqrt(d_k)``: the spread of dot products of random vectors.

    For each ``d_k``, draws ``n`` pairs of vectors with independent standard
    normal entries and measures the standard deviation of ``q . k`` (it grows
    like ``sqrt(d_k)``) and of ``q . k / sqrt(d_k)`` (it stays near 1). Also
    returns the softmax weights of one query over ``num_keys`` keys at the
    largest ``d_k``, unscaled and scaled.
    """
    d_ks = list(d_ks)  # used several times: a generator would run dry
    g = torch.Generator().manual_seed(seed)
    out = ScoreSpread(d_ks, [], [], torch.empty(0), torch.empty(0))
    for d_k in d_ks:
        dots = (torch.randn(n, d_k, generator=g) * torch.randn(n, d_k, generator=g)
                ).sum(-1)  # (n,)
        out.unscaled.append(dots.std().item())
        out.scaled.append((dots / math.sqrt(d_k)).std().item())
    q = torch.randn(1, d_ks[-1], generator=g)  # (1, d_k)
    k = torch.randn(num_keys, d_ks[-1], generator=g)  # (num_keys, d_k)
    out.weights_unscaled = torch.softmax(q @ k.T, dim=-1)[0]
    out.weights_scaled = scaled_dot_product_attention(q, k, k)[1][0]
    return out


def alignment_score(weights: torch.Tensor, expected: torch.Tensor) -> float:
    """Mean attention mass on the expected positions: ``(weights *
    expected).sum(-1)`` averaged over rows. 1 means a perfect alignment.

    ``weights``: ``(..., L, S)``; ``expected``: 0/1 matrix broadcastable to
    it, one 1 per row.
    """
    return (weights * expected).sum(-1).mean().item()


@dataclass
class ReversalRun:
    """What :func:`train_reversal` returns: the trained model, its training
    history, the test data, the test attention weights ``(n, L, L)`` before
    and after training, and the test accuracy per token."""

    model: OneLayerAttention
    history: History
    X_test: torch.Tensor
    y_test: torch.Tensor
    weights_before: torch.Tensor
    weights_after: torch.Tensor
    accuracy: float


def train_reversal(seq_len: int = 8, vocab_size: int = 10, n_train: int = 2000,
                   num_epochs: int = 8, d_model: int = 32, pos_scale: float = 2.0,
                   lr: float = 1e-2, seed: int = 0) -> ReversalRun:
    """Train :class:`~introdl.attention.OneLayerAttention` to reverse sequences
    (:func:`~introdl.tasks.reversal_task`) with :func:`~introdl.training.fit`
    (Adam, mini-batches of 100); keep its attention on 500 test sequences before
    and after training."""
    X, y = reversal_task(n_train, seq_len, vocab_size, seed=seed)
    X_test, y_test = reversal_task(500, seq_len, vocab_size, seed=seed + 1)
    with torch.random.fork_rng(devices=[]):  # PyTorch's own initialisation, seeded
        torch.manual_seed(seed)
        model = OneLayerAttention(vocab_size, seq_len, d_model, pos_scale)
    with torch.no_grad():
        before = model(X_test, return_weights=True)[1]  # (n, L, L)
    history = fit(model, (X, y), loss_fn=sequence_cross_entropy,
                  optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                  num_epochs=num_epochs, batch_size=100,
                  generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        logits, after = model(X_test, return_weights=True)  # (n, L, V), (n, L, L)
    return ReversalRun(model, history, X_test, y_test, before, after,
                       sequence_accuracy(logits, y_test))
