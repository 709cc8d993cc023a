"""Synthetic, seeded sequence tasks whose correct answers are known.

Every generator takes an integer ``seed`` (drawing from its own
``torch.Generator``, so torch's global random state is left alone), returns
tensors with documented shapes, and downloads nothing. Time steps without a
target hold ``-100``, :data:`introdl.losses.IGNORE_INDEX`, which
``cross_entropy`` skips.
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from introdl.checks import check_number, check_positive_int

__all__ = ["delayed_echo", "first_symbol_recall", "first_value_recall",
           "reversal_task", "reversal_alignment", "recall_task"]


def delayed_echo(n: int, seq_len: int = 20, delay: int = 2, num_symbols: int = 4,
                 seed: int = 0):
    """Sequences of random symbols whose target is the symbol seen ``delay``
    steps earlier: ``y[:, t] = s[:, t - delay]``, so a model that looks at one
    step at a time is at chance.

    Returns ``(X, y)``: one-hot inputs ``(n, seq_len, num_symbols)`` float32 and
    targets ``(n, seq_len)`` int64, ``-100`` (no target) for ``t < delay``.
    Raises ValueError unless ``0 < delay < seq_len``, ``n >= 1``, ``num_symbols >= 2``.
    """
    check_positive_int("n", n)
    if check_positive_int("delay", delay) >= check_positive_int("seq_len", seq_len):
        raise ValueError(f"seq_len must exceed delay={delay}, got {seq_len}")
    if check_positive_int("num_symbols", num_symbols) < 2:
        raise ValueError(f"num_symbols must be >= 2, got {num_symbols}")
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    s = torch.randint(0, num_symbols, (n, seq_len), generator=g)  # (n, T)
    X = F.one_hot(s, num_symbols).float()  # (n, T, K)
    y = torch.full_like(s, -100)  # (n, T): -100 = no target
    y[:, delay:] = s[:, :-delay]  # the symbol delay steps back
    return X, y


def first_symbol_recall(n: int, delay: int, num_symbols: int = 4,
                        noise_size: int = 4, noise_std: float = 1.0, seed: int = 0):
    """Name the symbol seen ``delay`` steps before the end, through noise.

    Step 0 shows one of ``num_symbols`` symbols (one-hot, first ``num_symbols``
    channels); the next ``delay`` steps carry only Gaussian noise (standard
    deviation ``noise_std``) in ``noise_size`` other channels. Guessing is right
    ``1/num_symbols`` of the time. Returns ``(X, y)``: inputs ``(n, delay + 1,
    num_symbols + noise_size)`` float32 and labels ``(n,)`` int64. Raises
    ValueError for sizes out of range or a negative ``noise_std``.
    """
    check_positive_int("n", n)
    check_positive_int("delay", delay)
    if check_positive_int("num_symbols", num_symbols) < 2:
        raise ValueError(f"num_symbols must be >= 2, got {num_symbols}")
    K, M = num_symbols, check_positive_int("noise_size", noise_size)
    check_number("noise_std", noise_std, low=0, high=math.inf, high_open=True)
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    y = torch.randint(0, K, (n,), generator=g)  # (n,)
    X = torch.zeros(n, delay + 1, K + M)  # (n, T, K + M)
    X[:, 0, :K] = F.one_hot(y, K).float()  # the symbol at step 0
    X[:, 1:, K:] = noise_std * torch.randn(n, delay, M, generator=g)  # then noise
    return X, y


def first_value_recall(n: int, delay: int, seed: int = 0):
    """Regression: output the number seen ``delay`` steps before the end.

    Channel 0 holds a standard normal value at every step; channel 1 marks step
    0 with a 1. The target is channel 0 at step 0, so always answering 0 gives a
    mean squared error of about 1. Returns ``(X, y)``: inputs ``(n, delay + 1,
    2)`` float32 and targets ``(n, 1)``. Raises ValueError for ``n`` or
    ``delay`` below 1.
    """
    check_positive_int("n", n)
    check_positive_int("delay", delay)
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    X = torch.zeros(n, delay + 1, 2)  # (n, T, 2)
    X[:, :, 0] = torch.randn(n, delay + 1, generator=g)
    X[:, 0, 1] = 1.0  # the marker: "remember this one"
    return X, X[:, 0, :1].clone()  # (n, T, 2), (n, 1)


def reversal_task(n: int, seq_len: int = 8, vocab_size: int = 10, seed: int = 0):
    """Random token sequences and their reversals: ``y[:, t] = X[:, L-1-t]``.

    Output position ``t`` needs exactly one input, the one at ``L-1-t``
    (:func:`reversal_alignment`). Returns ``(X, y)``, int64 ``(n, seq_len)``
    with tokens ``0 .. vocab_size-1``. Raises ValueError for ``n < 1``,
    ``seq_len < 2`` or ``vocab_size < 2``.
    """
    check_positive_int("n", n)
    for name, value in (("seq_len", seq_len), ("vocab_size", vocab_size)):
        if check_positive_int(name, value) < 2:
            raise ValueError(f"{name} must be >= 2, got {value}")
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    X = torch.randint(0, vocab_size, (n, seq_len), generator=g)  # (n, L)
    return X, X.flip(1)


def reversal_alignment(seq_len: int) -> torch.Tensor:
    """The attention a perfect reverser pays: the anti-diagonal ``(L, L)``
    matrix with ``A[t, L-1-t] = 1`` and zeros elsewhere (float32)."""
    return torch.eye(check_positive_int("seq_len", seq_len)).flip(1)  # (L, L)


def recall_task(n: int, lengths: Sequence[int] = (1, 2, 4, 8, 16),
                num_symbols: int = 10, seed: int = 0):
    """Remember a whole sequence: read ``k`` random symbols, then output them all.

    Each example draws its length ``k`` from ``lengths``; its symbols sit at the
    *end* of an input of ``T = max(lengths)`` steps, after ``T - k`` padding
    tokens (id ``num_symbols``). Target position ``j < k`` holds the ``j``-th
    symbol, later positions ``-100`` (no target). Returns ``(X, y, k)``: inputs
    and targets ``(n, T)`` int64 and the lengths ``(n,)``. Raises ValueError for
    sizes out of range or an empty ``lengths``.
    """
    check_positive_int("n", n)
    if check_positive_int("num_symbols", num_symbols) < 2:
        raise ValueError(f"num_symbols must be >= 2, got {num_symbols}")
    lengths = torch.tensor([check_positive_int("lengths[i]", k) for k in lengths])
    if len(lengths) == 0:
        raise ValueError("lengths must hold at least one length")
    T = int(lengths.max())
    g = torch.Generator().manual_seed(check_positive_int("seed", seed, allow_zero=True))
    symbols = torch.randint(0, num_symbols, (n, T), generator=g)  # (n, T)
    k = lengths[torch.randint(0, len(lengths), (n,), generator=g)]  # (n,)
    steps = torch.arange(T)  # (T,)
    X = torch.where(steps >= T - k[:, None], symbols, num_symbols)  # (n, T)
    first = (T - k)[:, None]  # (n, 1): where each example's symbols start
    y = X.gather(1, (first + steps).clamp(max=T - 1))  # (n, T): symbols in order
    y = torch.where(steps < k[:, None], y, -100)  # -100 = no target
    return X, y, k
