"""Experiments of the chapter "Transformers".

- :func:`sentence_examples`: next-token training examples, one per sentence;
- :func:`pronoun_attention`: where a trained :class:`~introdl.transformer.TinyGPT`
  looks when it must choose "she" or "he";
- :func:`residual_stream_scale`: how the residual stream grows with depth in a
  pre-norm stack, and does not in a post-norm one (why GPT-2 needs a final
  layer norm);
- :data:`GPT2_SMALL` and :func:`gpt_parameter_count`: GPT-2 small's numbers,
  and the parameter count of a :class:`~introdl.transformer.TinyGPT` built
  with them (on the meta device: no memory needed).
"""

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_positive_int
from introdl.text import tokenize
from introdl.training import eval_mode, parameter_count
from introdl.transformer import TinyGPT, TransformerBlock, causal_mask

__all__ = ["sentence_examples", "pronoun_attention", "StreamScale",
           "residual_stream_scale", "stream_rms", "GPT2_SMALL",
           "gpt_parameter_count"]

#: GPT-2 small (Radford et al. 2019; the released code and weights) in the
#: arguments of :class:`~introdl.transformer.TinyGPT`: a byte-pair vocabulary of
#: 50,257 tokens, a context of 1,024, width 768, 12 heads, 12 blocks, a
#: feed-forward width of 4 x 768, dropout 0.1 and tied embeddings.
GPT2_SMALL = {"vocab_size": 50257, "context_len": 1024, "d_model": 768,
              "num_heads": 12, "num_layers": 12, "d_ff": 3072, "dropout": 0.1,
              "tie_weights": True}


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


@dataclass
class StreamScale:
    """What :func:`residual_stream_scale` measured: the root mean square of
    the residual stream after the input (index 0) and after each block, for a
    pre-norm and for a post-norm stack."""

    pre_norm: list[float]
    post_norm: list[float]


@torch.no_grad()
def residual_stream_scale(num_layers: int = 12, d_model: int = 32,
                          num_heads: int = 4, seq_len: int = 16,
                          batch_size: int = 8, seed: int = 0) -> StreamScale:
    """Pass unit-scale random vectors ``(batch_size, seq_len, d_model)``
    through ``num_layers`` freshly initialised causal
    :class:`~introdl.transformer.TransformerBlock` s (PyTorch's default
    initialisation, drawn from ``seed``), once with ``norm_first=True`` and once
    with ``False``, and record the stream's root mean square after each block.
    Torch's global generator is left alone."""
    check_positive_int("num_layers", num_layers)
    x0 = torch.randn(batch_size, seq_len, d_model,
                     generator=torch.Generator().manual_seed(seed))  # (B, T, d)
    mask = causal_mask(seq_len)
    scales = []
    for norm_first in (True, False):
        with torch.random.fork_rng(devices=[]):  # PyTorch's own initialisation
            torch.manual_seed(seed)
            blocks = [TransformerBlock(d_model, num_heads, norm_first=norm_first)
                      for _ in range(num_layers)]
        x, rms = x0, [x0.pow(2).mean().sqrt().item()]
        for block in blocks:
            x, _ = block(x, mask=mask)  # (B, T, d)
            rms.append(x.pow(2).mean().sqrt().item())
        scales.append(rms)
    return StreamScale(*scales)


@torch.no_grad()
def stream_rms(model: TinyGPT, ids: torch.Tensor) -> list[float]:
    """The root mean square of ``model``'s residual stream on ``ids``
    ``(B, T)``: after the embeddings, then after each block (before the final
    layer norm), in eval mode."""
    T = ids.shape[1]
    with eval_mode(model):
        x = model.tok_emb(ids) + model.pos_emb.weight[:T]  # (B, T, d)
        rms = [x.pow(2).mean().sqrt().item()]
        for block in model.blocks:
            x, _ = block(x, mask=model.mask[:T, :T])
            rms.append(x.pow(2).mean().sqrt().item())
    return rms


def gpt_parameter_count(**config) -> int:
    """The number of parameters of ``TinyGPT(**config)`` (tied ones counted
    once), built on the ``meta`` device: shapes only, no memory for the
    weights, so GPT-2's sizes cost nothing. ``gpt_parameter_count(**GPT2_SMALL)``
    gives GPT-2 small's count."""
    with torch.device("meta"):  # every tensor made in here is shapes only
        model = TinyGPT(**config)
    return parameter_count(model)
