"""Experiments of the chapter "Transformers".

- :func:`sentence_examples`: next-token training examples, one per sentence;
- :func:`pronoun_attention`: where a trained :class:`~introdl.transformer.TinyGPT`
  looks when it must choose "she" or "he".
"""

from collections.abc import Iterable

import torch
from torch import nn

from introdl.text import tokenize
from introdl.transformer import TinyGPT

__all__ = ["sentence_examples", "pronoun_attention"]


def sentence_examples(sentences: Iterable[str],
                      vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token examples ``(X, Y)``, int64 ``(n, T_max - 1)``: one row per
    sentence, padded to the longest, with ``Y[i, t]`` the token after
    ``X[i, t]``. Padding positions get the target -100
    (:data:`introdl.losses.IGNORE_INDEX`), which the loss skips. ``vocab``: a
    ``Vocab`` with a padding token."""
    if vocab.pad_id is None:
        raise ValueError("vocab must have a padding token")
    if isinstance(sentences, str):
        raise TypeError("sentences must be a list of strings, got one str")
    rows = [vocab.encode(tokenize(s)) for s in sentences]  # n tensors (T_i,)
    batch = nn.utils.rnn.pad_sequence(rows, batch_first=True,
                                      padding_value=vocab.pad_id)  # (n, T_max)
    X, Y = batch[:, :-1], batch[:, 1:]  # Y[i, t] is the token after X[i, t]
    return X, Y.masked_fill(Y == vocab.pad_id, -100)  # -100 = no target: skipped


@torch.no_grad()
def pronoun_attention(model: TinyGPT, X: torch.Tensor, vocab) -> torch.Tensor:
    """Where does the model look when it must choose "she" or "he"?

    For every row of ``X`` ``(n, T)`` (one sentence per row, as made by
    :func:`sentence_examples`) where "and" is followed by "she" or "he", take
    the attention weight from "and" (the position that predicts the pronoun)
    to position 0, the sentence's first word (the name the pronoun refers to).
    Returns the mean of those weights per block and head, ``(layers, heads)``.
    Raises ``ValueError`` if no row of ``X`` holds "and she" or "and he".
    """
    and_id = vocab.stoi.get("and", -1)
    pronouns = torch.tensor([vocab.stoi.get(w, -1) for w in ("she", "he")],
                            device=X.device)
    hits = (X[:, :-1] == and_id) & torch.isin(X[:, 1:], pronouns)  # (n, T - 1)
    rows, cols = hits.nonzero(as_tuple=True)  # positions of "and" before a pronoun
    if len(rows) == 0:
        raise ValueError('X holds no "and she" or "and he"')
    _, weights = model(X[rows], return_weights=True)  # per block: (n, h, T, T)
    n = torch.arange(len(rows), device=X.device)
    return torch.stack([w[n, :, cols, 0].mean(0) for w in weights])  # (layers, heads)
