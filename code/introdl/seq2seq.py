"""Encoder-decoder transformers: cross-attention, the decoder block, a small
encoder-decoder model and greedy decoding.

This is the architecture of "Attention is all you need" (Vaswani et al.,
2017): an encoder reads the source with unmasked self-attention; a decoder
writes the target one token at a time with causal self-attention, and with
*cross-attention*, whose queries come from the decoder and whose keys and
values come from the encoder's output (the "memory").

- :func:`cross_attention`: one head of cross-attention, from weight matrices;
- :class:`DecoderBlock`: masked self-attention, cross-attention and a
  feed-forward network; its parameters carry the names and shapes of
  ``torch.nn.TransformerDecoderLayer`` (``self_attn``, ``multihead_attn``,
  ``linear1``, ``linear2``, ``norm1`` .. ``norm3``), so that layer's
  ``state_dict`` loads into ours. The encoder block is
  :class:`introdl.transformer.TransformerBlock` without a mask, which equals
  ``torch.nn.TransformerEncoderLayer``;
- :class:`EncoderDecoder`: embeddings, a stack of each, and a linear head;
- :func:`greedy_decode`: write the target by taking the most probable token.

Masks follow the book's convention: ``True`` means "may attend".
"""

import torch
from torch import nn

from introdl.attention import MultiHeadAttention, scaled_dot_product_attention
from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.training import eval_mode
from introdl.transformer import LayerNorm, TransformerBlock, causal_mask

__all__ = ["cross_attention", "DecoderBlock", "EncoderDecoder", "padding_mask",
           "greedy_decode"]


def cross_attention(y: torch.Tensor, memory: torch.Tensor, W_q: torch.Tensor,
                    W_k: torch.Tensor, W_v: torch.Tensor,
                    mask: torch.Tensor | None = None):
    """One head of cross-attention: the target ``y`` reads from ``memory``.

    ``Q = y W_q`` (queries from the decoder), ``K = memory W_k`` and
    ``V = memory W_v`` (keys and values from the encoder).

    Args:
        y: ``(..., T, d)``; memory: ``(..., S, d)``; W_q, W_k: ``(d, d_k)``;
            W_v: ``(d, d_v)``; mask: boolean, broadcastable to ``(..., T, S)``.
    Returns:
        ``(output (..., T, d_v), weights (..., T, S))``: row ``t`` of the
        weights says which source positions target position ``t`` reads.
    """
    q = y @ W_q  # (..., T, d_k): what each target position looks for
    k, v = memory @ W_k, memory @ W_v  # (..., S, d_k), (..., S, d_v)
    return scaled_dot_product_attention(q, k, v, mask)


class DecoderBlock(TransformerBlock):
    """A transformer decoder block: the encoder block plus cross-attention.

    With ``norm_first=True`` (pre-norm, as in
    :class:`~introdl.transformer.TransformerBlock`)::

        x = x + SelfAttention(LayerNorm(x), causal mask)
        x = x + CrossAttention(LayerNorm(x), memory)
        x = x + FeedForward(LayerNorm(x))

    With ``norm_first=False`` (the original transformer) each sum is
    normalized instead: ``x = LayerNorm(x + SelfAttention(x))``, and so on.
    The feed-forward network uses GELU; there is no dropout.

    Args:
        d_model: width; num_heads: heads of both attentions;
        d_ff: hidden width of the feed-forward network (default ``4 d_model``).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int | None = None,
                 norm_first: bool = True):
        super().__init__(d_model, num_heads, d_ff=d_ff, norm_first=norm_first)
        self.multihead_attn = MultiHeadAttention(d_model, num_heads)  # cross-attention
        self.norm3 = LayerNorm(d_model)

    def forward(self, x: torch.Tensor, memory: torch.Tensor,
                mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None):
        """``x``: ``(B, T, d_model)``, the target so far; ``memory``:
        ``(B, S, d_model)``, the encoder's output. ``mask`` (e.g. causal)
        broadcasts to ``(B, heads, T, T)``, ``memory_mask`` to
        ``(B, heads, T, S)``; ``True`` = may attend.

        Returns:
            ``(output (B, T, d_model), self-attention weights (B, heads, T, T),
            cross-attention weights (B, heads, T, S))``.
        Raises:
            ValueError: if ``memory`` is not ``(B, S, d_model)``.
        """
        if check_tensor("memory", memory).ndim != 3 or memory.shape[0] != len(x):
            raise ValueError(f"memory must be (B={len(x)}, S, d_model), got "
                             f"{tuple(memory.shape)}")
        if self.norm_first:
            h, self_weights = self.self_attn(self.norm1(x), mask=mask)
            x = x + h
            h, cross_weights = self.multihead_attn(self.norm2(x), memory,
                                                   mask=memory_mask)
            x = x + h
            return x + self.feed_forward(self.norm3(x)), self_weights, cross_weights
        h, self_weights = self.self_attn(x, mask=mask)
        x = self.norm1(x + h)
        h, cross_weights = self.multihead_attn(x, memory, mask=memory_mask)
        x = self.norm2(x + h)
        return self.norm3(x + self.feed_forward(x)), self_weights, cross_weights


def padding_mask(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Boolean ``(B, 1, 1, S)`` mask of the real tokens of ``ids`` ``(B, S)``:
    ``False`` at padding, so that no query attends to it."""
    return (ids != pad_id)[:, None, None, :]  # broadcasts over heads and queries


class EncoderDecoder(nn.Module):
    """A small encoder-decoder transformer (pre-norm, no dropout).

    Source and target tokens get their own embeddings and share learned
    position embeddings. The encoder is ``num_layers``
    :class:`~introdl.transformer.TransformerBlock` s without a causal mask,
    then a :class:`~introdl.transformer.LayerNorm`; the decoder is ``num_layers``
    :class:`DecoderBlock` s with one, then a
    :class:`~introdl.transformer.LayerNorm` and a linear head that scores every
    token. Padding (``pad_id``) in the source is masked out of both the
    encoder's and the decoder's attention.

    Args:
        vocab_size: tokens ``V`` (one vocabulary for source and target);
        max_len: longest source or target; pad_id: the padding token's id;
        d_model, num_heads, num_layers, d_ff: sizes of the blocks.
    """

    def __init__(self, vocab_size: int, max_len: int, d_model: int = 32,
                 num_heads: int = 2, num_layers: int = 1, d_ff: int | None = None,
                 pad_id: int = 0):
        super().__init__()
        self.max_len, self.pad_id = check_positive_int("max_len", max_len), pad_id
        check_positive_int("num_layers", num_layers)
        self.src_emb = nn.Embedding(check_positive_int("vocab_size", vocab_size),
                                    d_model)
        self.tgt_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(max_len, d_model)
        for emb in (self.src_emb, self.tgt_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=0.02)
        self.encoder = nn.ModuleList(TransformerBlock(d_model, num_heads, d_ff)
                                     for _ in range(num_layers))
        self.encoder_norm = LayerNorm(d_model)
        self.decoder = nn.ModuleList(DecoderBlock(d_model, num_heads, d_ff)
                                     for _ in range(num_layers))
        self.decoder_norm = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def embed(self, emb: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        """Token plus position embeddings of ``ids`` ``(B, L)``: ``(B, L, d)``."""
        check_tensor("ids", ids, ndim=(2,))
        check_number("the length of ids", ids.shape[1], high=self.max_len)
        tokens = emb(ids)  # (B, L, d)
        positions = self.pos_emb.weight[:ids.shape[1]]  # (L, d): the first L rows
        return tokens + positions  # (B, L, d)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """``src`` ``(B, S)`` token ids -> memory ``(B, S, d_model)``."""
        x = self.embed(self.src_emb, src)  # (B, S, d)
        mask = padding_mask(src, self.pad_id)  # (B, 1, 1, S)
        for block in self.encoder:  # no causal mask: every token sees all others
            x, _ = block(x, mask=mask)
        return self.encoder_norm(x)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, src: torch.Tensor,
               return_weights: bool = False):
        """Logits ``(B, T, V)`` for the token after each of ``tgt`` ``(B, T)``,
        reading ``memory`` ``(B, S, d)`` (the encoding of ``src`` ``(B, S)``).
        With ``return_weights``, also each block's cross-attention weights
        ``(B, heads, T, S)``."""
        x = self.embed(self.tgt_emb, tgt)  # (B, T, d)
        mask = causal_mask(tgt.shape[1], device=tgt.device)  # (T, T)
        memory_mask = padding_mask(src, self.pad_id)  # (B, 1, 1, S)
        cross = []
        for block in self.decoder:
            x, _, weights = block(x, memory, mask=mask, memory_mask=memory_mask)
            cross.append(weights)  # (B, heads, T, S)
        logits = self.head(self.decoder_norm(x))  # (B, T, V)
        return (logits, cross) if return_weights else logits

    def forward(self, src: torch.Tensor, tgt: torch.Tensor,
                return_weights: bool = False):
        """``src`` ``(B, S)``, ``tgt`` ``(B, T)`` -> logits ``(B, T, V)``
        (and the cross-attention weights, see :meth:`decode`)."""
        return self.decode(tgt, self.encode(src), src, return_weights)


@torch.no_grad()
def greedy_decode(model: EncoderDecoder, src: torch.Tensor, bos_id: int,
                  eos_id: int, max_len: int | None = None) -> torch.Tensor:
    """Translate ``src`` ``(B, S)`` by always taking the most probable token.

    The decoder starts from ``bos_id`` and appends its arg-max until every row
    has written ``eos_id`` or ``max_len`` tokens (default ``model.max_len``);
    rows that are done keep writing ``eos_id``.

    Returns:
        ``(B, T_out)`` token ids, without the ``bos_id`` they started from.
    """
    max_len = check_positive_int(
        "max_len", model.max_len if max_len is None else max_len)
    if max_len > model.max_len:
        raise ValueError(f"max_len must be <= model.max_len={model.max_len}, "
                         f"got {max_len}")
    out = torch.full((len(src), 1), bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(len(src), dtype=torch.bool, device=src.device)  # (B,)
    with eval_mode(model):
        memory = model.encode(src)  # (B, S, d): encoded once, read at every step
        for _ in range(max_len):
            logits = model.decode(out, memory, src)[:, -1]  # (B, V): last position
            next_id = logits.argmax(-1).masked_fill(done, eos_id)  # (B,)
            out = torch.cat([out, next_id[:, None]], dim=1)
            done |= next_id == eos_id
            if done.all():
                break
    return out[:, 1:]
