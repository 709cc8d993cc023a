"""Experiments of the chapter "Predicting the next word": training the
next-word model on a token stream."""

import torch

from introdl.checks import check_tensor
from introdl.losses import sequence_cross_entropy
from introdl.rnn import RNNLanguageModel
from introdl.text import lm_windows
from introdl.training import History, fit

__all__ = ["train_language_model"]


def train_language_model(ids: torch.Tensor, vocab_size: int, *, embed_dim: int = 16,
                         hidden_size: int = 32, seq_len: int = 16,
                         num_epochs: int = 15, lr: float = 0.02,
                         seed: int = 0) -> tuple[RNNLanguageModel, History]:
    """Train an ``RNNLanguageModel`` on the token stream ``ids (n,)`` with ``fit``,
    Adam and gradient clipping; the last 10 % of the stream is for validation.
    Windows from ``lm_windows`` (stride ``seq_len // 2`` for training). Returns
    ``(model, history)``. Raises ValueError for ids outside ``[0, vocab_size)``."""
    check_tensor("ids", ids)
    if ids.numel() == 0 or ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(f"ids must be non-empty, in [0, vocab_size={vocab_size})")
    split = int(0.9 * len(ids))
    train = lm_windows(ids[:split], seq_len, stride=max(1, seq_len // 2))
    val = lm_windows(ids[split:], seq_len)
    with torch.random.fork_rng():  # a seeded start; the global state is restored
        torch.manual_seed(seed)
        model = RNNLanguageModel(vocab_size, embed_dim, hidden_size)
    history = fit(model, train, val, loss_fn=sequence_cross_entropy,
                  optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                  num_epochs=num_epochs, batch_size=64, clip_norm=1.0,
                  generator=torch.Generator().manual_seed(seed))
    return model, history
