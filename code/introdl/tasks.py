"""Synthetic, seeded sequence tasks whose correct answers are known.

Every generator takes a ``torch.Generator`` or a seed, returns tensors with
documented shapes, and downloads nothing.
"""

from __future__ import annotations

import torch

__all__ = ["IGNORE_INDEX", "delayed_echo", "first_symbol_recall", "first_value_recall",
           "reversal_task", "reversal_alignment", "recall_task"]

# --- tasks of the chapters "Deep sequence modeling" and "Recurrent neural networks" ---

from introdl.checks import check_positive_int  # noqa: E402

#: Target value of the time steps that carry no label; PyTorch's
#: ``cross_entropy`` skips it by default (``ignore_index=-100``).
from introdl.losses import IGNORE_INDEX  # noqa: E402  (re-exported)


def delayed_echo(n: int, seq_len: int = 20, delay: int = 2, num_symbols: int = 4,
                 seed: int = 0):
    """Sequences of random symbols whose target is the symbol seen ``delay``
    steps earlier: ``y[:, t] = s[:, t - delay]``.

    The input at step ``t`` says nothing about the target at step ``t``, so a
    model that looks at one step at a time is at chance (``1/num_symbols``);
    a model that remembers the last ``delay`` inputs is always right.

    Args:
        n: number of sequences; seq_len: steps per sequence (``> delay``).
        delay: how far back the answer lies (``>= 1``).
        num_symbols: alphabet size (``>= 2``).
    Returns:
        ``(X, y)``: one-hot inputs ``(n, seq_len, num_symbols)`` float32 and
        targets ``(n, seq_len)`` int64, :data:`IGNORE_INDEX` for ``t < delay``.
    Raises:
        ValueError: for sizes out of range.
    """
    check_positive_int("n", n)
    check_positive_int("delay", delay)
    check_positive_int("seq_len", seq_len)
    if seq_len <= delay:
        raise ValueError(f"seq_len must exceed delay={delay}, got {seq_len}")
    if check_positive_int("num_symbols", num_symbols) < 2:
        raise ValueError(f"num_symbols must be >= 2, got {num_symbols}")
    g = torch.Generator().manual_seed(seed)
    s = torch.randint(0, num_symbols, (n, seq_len), generator=g)  # (n, T)
    X = torch.nn.functional.one_hot(s, num_symbols).float()  # (n, T, K)
    y = torch.full_like(s, IGNORE_INDEX)  # (n, T)
    y[:, delay:] = s[:, :-delay]
    return X, y

# --- tasks of the chapters "Backpropagation through time" and "LSTM and GRU" ---

from introdl.checks import check_number  # noqa: E402


def first_symbol_recall(n: int, delay: int, num_symbols: int = 4,
                        noise_size: int = 4, noise_std: float = 1.0, seed: int = 0):
    """Name the symbol seen ``delay`` steps before the end, through noise.

    Step 0 shows one of ``num_symbols`` symbols (one-hot, first
    ``num_symbols`` channels); the next ``delay`` steps carry only Gaussian
    noise in ``noise_size`` other channels. The label is the first symbol, so
    a model must carry it across ``delay`` noisy steps: a long-term dependency
    whose length we choose. Guessing is right ``1/num_symbols`` of the time.

    Args:
        n: number of sequences; delay: noisy steps after the symbol (``>= 1``).
        num_symbols, noise_size: channels of the symbol and of the noise.
        noise_std: standard deviation of the noise.
    Returns:
        ``(X, y)``: inputs ``(n, delay + 1, num_symbols + noise_size)`` float32
        and labels ``(n,)`` int64 in ``0 .. num_symbols - 1``.
    Raises:
        ValueError: for sizes out of range or a negative ``noise_std``.
    """
    check_positive_int("n", n)
    check_positive_int("delay", delay)
    check_positive_int("noise_size", noise_size)
    if check_positive_int("num_symbols", num_symbols) < 2:
        raise ValueError(f"num_symbols must be >= 2, got {num_symbols}")
    check_number("noise_std", noise_std, low=0)
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, num_symbols, (n,), generator=g)  # (n,)
    X = torch.zeros(n, delay + 1, num_symbols + noise_size)  # (n, T, K + M)
    X[:, 0, :num_symbols] = torch.nn.functional.one_hot(y, num_symbols).float()
    X[:, 1:, num_symbols:] = noise_std * torch.randn(n, delay, noise_size, generator=g)
    return X, y


def first_value_recall(n: int, delay: int, seed: int = 0):
    """Regression: output the number seen ``delay`` steps before the end.

    Channel 0 holds a standard normal value at every step; channel 1 marks
    step 0 with a 1. The target is channel 0 at step 0, so predicting 0
    (its mean) gives a mean squared error of about 1.

    Returns:
        ``(X, y)``: inputs ``(n, delay + 1, 2)`` float32, targets ``(n, 1)``.
    Raises:
        ValueError: if ``n`` or ``delay`` is not a positive int.
    """
    check_positive_int("n", n)
    check_positive_int("delay", delay)
    g = torch.Generator().manual_seed(seed)
    X = torch.zeros(n, delay + 1, 2)  # (n, T, 2)
    X[:, :, 0] = torch.randn(n, delay + 1, generator=g)
    X[:, 0, 1] = 1.0  # the marker: "remember this one"
    return X, X[:, 0, :1].clone()  # (n, T, 2), (n, 1)


# --- tasks of the chapters "Limitations of recurrent models", "Attention", "Transformers" ---


def reversal_task(n: int, seq_len: int = 8, vocab_size: int = 10, seed: int = 0):
    """Random token sequences and their reversals: ``y[:, t] = X[:, L-1-t]``.

    The correct alignment is known: output position ``t`` needs exactly one
    input, the one at position ``L-1-t`` (:func:`reversal_alignment`).

    Args:
        n: number of sequences; seq_len: tokens per sequence ``L`` (``>= 2``);
        vocab_size: tokens are ``0 .. vocab_size-1`` (``>= 2``).
    Returns:
        ``(X, y)``, int64 tensors of shape ``(n, seq_len)``.
    Raises:
        ValueError: for sizes out of range.
    """
    check_positive_int("n", n)
    if check_positive_int("seq_len", seq_len) < 2:
        raise ValueError(f"seq_len must be >= 2, got {seq_len}")
    if check_positive_int("vocab_size", vocab_size) < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, vocab_size, (n, seq_len), generator=g)  # (n, L)
    return X, X.flip(1)


def reversal_alignment(seq_len: int) -> torch.Tensor:
    """The attention a perfect reverser pays: the anti-diagonal ``(L, L)``
    matrix with ``A[t, L-1-t] = 1`` and zeros elsewhere (float32)."""
    check_positive_int("seq_len", seq_len)
    return torch.eye(seq_len).flip(1)  # (L, L)


def recall_task(n: int, lengths=(1, 2, 4, 8, 16), num_symbols: int = 10,
                seed: int = 0):
    """Remember a whole sequence: read ``k`` random symbols, then output them all.

    Each example draws its length ``k`` from ``lengths``. Its ``k`` symbols
    sit at the *end* of an input of ``T = max(lengths)`` steps, after
    ``T - k`` padding tokens (id ``num_symbols``), so a recurrent model reads
    them last; everything it must recall is then in its final state. Target
    position ``j < k`` holds the ``j``-th symbol; later positions hold
    :data:`IGNORE_INDEX`.

    Returns:
        ``(X, y, k)``: inputs ``(n, T)`` int64 with values in
        ``0 .. num_symbols`` (the last is padding), targets ``(n, T)`` int64
        and the lengths ``(n,)`` int64.
    Raises:
        ValueError: for sizes out of range or an empty ``lengths``.
    """
    check_positive_int("n", n)
    if check_positive_int("num_symbols", num_symbols) < 2:
        raise ValueError(f"num_symbols must be >= 2, got {num_symbols}")
    if len(lengths) == 0:
        raise ValueError("lengths must hold at least one length")
    lengths = torch.tensor([check_positive_int("lengths[i]", k) for k in lengths])
    T = int(lengths.max())
    g = torch.Generator().manual_seed(seed)
    symbols = torch.randint(0, num_symbols, (n, T), generator=g)  # (n, T)
    k = lengths[torch.randint(0, len(lengths), (n,), generator=g)]  # (n,)
    steps = torch.arange(T)  # (T,)
    X = torch.where(steps >= T - k[:, None], symbols, num_symbols)  # (n, T)
    first = (T - k)[:, None]  # (n, 1): where each example's symbols start
    y = X.gather(1, (first + steps).clamp(max=T - 1))  # (n, T): symbols in order
    y = torch.where(steps < k[:, None], y, IGNORE_INDEX)
    return X, y, k
