"""Attention from scratch: scaled dot-product attention, positional encoding,
single-head self-attention, multi-head attention and a one-layer toy model.

Every attention function returns its weights next to its output, so heatmaps
need no hooks. :class:`MultiHeadAttention` uses the parameter names and shapes
of ``torch.nn.MultiheadAttention`` (``in_proj_weight``, ``in_proj_bias``,
``out_proj``), so a built-in layer's ``state_dict`` loads into it.

Masks follow PyTorch's boolean ``attn_mask`` convention: ``True`` means
"may attend". (``torch.nn.MultiheadAttention`` uses the opposite convention
for its boolean masks: there ``True`` means "may *not* attend".)
"""

import math

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_tensor

__all__ = ["check_attention_inputs", "scaled_dot_product_attention",
           "positional_encoding", "SelfAttention", "MultiHeadAttention",
           "OneLayerAttention"]


def check_attention_inputs(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                           mask: torch.Tensor | None = None) -> None:
    """Raise ``TypeError`` or ``ValueError``, naming the argument and what it
    got, unless ``q`` ``(..., L, d_k)``, ``k`` ``(..., S, d_k)`` and ``v``
    ``(..., S, d_v)`` are tensors of one floating dtype whose leading
    dimensions broadcast, and ``mask`` is ``None`` or a boolean tensor that
    broadcasts to the scores' shape ``(..., L, S)``."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if check_tensor(name, t, floating=True).ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., length, "
                             f"features), got shape {tuple(t.shape)}")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"q, k and v must share one dtype, got {q.dtype}, {k.dtype} "
                        f"and {v.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q has shape {tuple(q.shape)} and k has shape "
                         f"{tuple(k.shape)}: their last dimensions (d_k) must match")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k has shape {tuple(k.shape)} and v has shape "
                         f"{tuple(v.shape)}: they must have the same length S "
                         f"(dimension -2)")
    try:
        torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading dimensions of q {tuple(q.shape)}, k "
                         f"{tuple(k.shape)} and v {tuple(v.shape)} must "
                         f"broadcast") from None
    if mask is None:
        return
    if check_tensor("mask", mask).dtype != torch.bool:
        raise TypeError(f"mask must be a boolean tensor (True = may attend), "
                        f"got dtype {mask.dtype}")
    scores = (*torch.broadcast_shapes(q.shape[:-2], k.shape[:-2]), q.shape[-2],
              k.shape[-2])  # (..., L, S)
    if mask.ndim > len(scores) or any(m not in (1, n) for m, n in
                                      zip(mask.shape[::-1], scores[::-1])):
        raise ValueError(f"mask has shape {tuple(mask.shape)}, which does not "
                         f"broadcast to the scores' shape {scores}")


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None):
    """Attention of queries ``q`` ``(..., L, d_k)`` over keys ``k``
    ``(..., S, d_k)``, reading values ``v`` ``(..., S, d_v)``.

    ``mask`` (optional, boolean, broadcastable to ``(..., L, S)``) is ``True``
    where query ``i`` may attend to key ``j``. Returns ``(output (..., L, d_v),
    weights (..., L, S))``. A query that may attend to nothing gets weights 0
    and output 0, as in PyTorch. Errors: :func:`check_attention_inputs`.
    """
    check_attention_inputs(q, k, v, mask)
    scores = (q / math.sqrt(q.shape[-1])) @ k.transpose(-2, -1)  # (..., L, S)
    if mask is not None:  # e^-inf = 0: no weight where the mask is False
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., L, S): each row sums to 1
    if mask is not None:  # nothing to attend to: weights 0, not 0/0 = NaN
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights  # (..., L, d_v), (..., L, S)


def positional_encoding(seq_len: int, d_model: int,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The sinusoidal positional encoding of Vaswani et al. (2017), shape
    ``(seq_len, d_model)``, values in ``[-1, 1]``.

    ``PE[pos, 2i] = sin(pos / 10000^(2i/d_model))``, ``PE[pos, 2i+1]`` the
    cosine; for an odd ``d_model`` the last column is a sine.
    """
    check_positive_int("seq_len", seq_len)
    check_positive_int("d_model", d_model)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]  # (seq_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(d/2),)
    angles = pos / 10000 ** (two_i / d_model)  # (seq_len, ceil(d/2))
    pe = torch.empty(seq_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return pe.to(dtype)


class SelfAttention(nn.Module):
    """Single-head self-attention: ``Q = x W_q``, ``K = x W_k``, ``V = x W_v``,
    then :func:`scaled_dot_product_attention`. ``d_k`` defaults to
    ``d_model`` and ``d_v`` to ``d_k``; ``bias`` adds biases to the three
    projections."""

    def __init__(self, d_model: int, d_k: int | None = None, d_v: int | None = None,
                 bias: bool = False):
        super().__init__()
        check_positive_int("d_model", d_model)
        d_k = check_positive_int("d_k", d_k if d_k is not None else d_model)
        d_v = check_positive_int("d_v", d_v if d_v is not None else d_k)
        self.W_q = nn.Linear(d_model, d_k, bias=bias)
        self.W_k = nn.Linear(d_model, d_k, bias=bias)
        self.W_v = nn.Linear(d_model, d_v, bias=bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        """``x``: ``([B,] L, d_model)`` -> ``(output ([B,] L, d_v),
        weights ([B,] L, L))``; ``mask`` as in :func:`scaled_dot_product_attention`."""
        check_tensor("x", x, floating=True, ndim=(2, 3), last_dim=self.W_q.in_features)
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)  # (..., L, d_k|d_k|d_v)
        return scaled_dot_product_attention(q, k, v, mask)


class MultiHeadAttention(nn.Module):
    """Multi-head attention with ``torch.nn.MultiheadAttention``'s parameters.

    The query, key and value projections are stacked in ``in_proj_weight``
    ``(3E, E)`` and ``in_proj_bias`` ``(3E,)``; the heads' concatenated outputs
    pass through ``out_proj``. Batch-first; no dropout. ``embed_dim`` ``E``
    must be divisible by ``num_heads``; each head works in ``E / num_heads``
    dimensions.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True):
        super().__init__()
        check_positive_int("embed_dim", embed_dim)
        check_positive_int("num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise as PyTorch does: Xavier-uniform projections, zero biases."""
        nn.init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, E)`` -> ``(B, heads, T, E / heads)``."""
        B, T, E = x.shape
        return x.view(B, T, self.num_heads, E // self.num_heads).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        """Attend from ``query`` ``(B, L, E)`` over ``key``/``value`` ``(B, S, E)``
        (both default to ``query``: self-attention). ``mask``: boolean,
        broadcastable to ``(B, heads, L, S)``, ``True`` = may attend.

        Returns ``(output (B, L, E), per-head weights (B, heads, L, S))``.
        """
        key = query if key is None else key
        value = key if value is None else value
        E, dtype = self.embed_dim, self.in_proj_weight.dtype
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_tensor(name, t, floating=True)
            if t.ndim != 3 or t.shape[-1] != E or t.shape[0] != query.shape[0]:
                raise ValueError(f"{name} must have shape (B, length, {E}) with "
                                 f"query's B, got {tuple(t.shape)}")
            if t.dtype != dtype:
                raise TypeError(f"{name} must have the layer's dtype {dtype}, got "
                                f"{t.dtype}")
        W_q, W_k, W_v = self.in_proj_weight.chunk(3)  # each (E, E)
        b_q, b_k, b_v = (self.in_proj_bias.chunk(3) if self.in_proj_bias is not None
                         else (0.0, 0.0, 0.0))
        q = self._split_heads(query @ W_q.T + b_q)  # (B, h, L, E/h)
        k = self._split_heads(key @ W_k.T + b_k)  # (B, h, S, E/h)
        v = self._split_heads(value @ W_v.T + b_v)  # (B, h, S, E/h)
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, h, L, E/h)
        out = out.transpose(1, 2).reshape(query.shape)  # concatenate heads: (B, L, E)
        return self.out_proj(out), weights


class OneLayerAttention(nn.Module):
    """Tokens -> embedding + positional encoding -> one self-attention head ->
    a score for every token at every position.

    ``x_t = E[X_t] + pos_scale * PE[t]``, then :class:`SelfAttention`, then a
    linear read-out. The embeddings start small (normal, std ``init_std``),
    so at first the positions dominate what the head sees.
    """

    def __init__(self, vocab_size: int, seq_len: int, d_model: int = 32,
                 pos_scale: float = 2.0, init_std: float = 0.1):
        super().__init__()
        check_number("pos_scale", pos_scale)
        check_number("init_std", init_std, low=0)
        self.embedding = nn.Embedding(check_positive_int("vocab_size", vocab_size),
                                      check_positive_int("d_model", d_model))
        nn.init.normal_(self.embedding.weight, std=init_std)
        self.register_buffer("pe", pos_scale * positional_encoding(seq_len, d_model))
        self.attention = SelfAttention(d_model)
        self.readout = nn.Linear(d_model, vocab_size)

    def forward(self, X: torch.Tensor, return_weights: bool = False):
        """``X``: ``(B, L)`` token ids -> logits ``(B, L, vocab_size)``, and
        the attention weights ``(B, L, L)`` if ``return_weights``."""
        check_tensor("X", X, ndim=(2,), last_dim=len(self.pe),
                     dtype=(torch.int64, torch.int32))  # token ids
        x = self.embedding(X) + self.pe  # (B, L, d_model)
        h, weights = self.attention(x)  # (B, L, d_model), (B, L, L)
        logits = self.readout(h)  # (B, L, V)
        return (logits, weights) if return_weights else logits
