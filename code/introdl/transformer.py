"""The transformer block and a tiny GPT-style language model, from scratch.

- :func:`layer_norm` / :class:`LayerNorm`: normalise each position's vector;
- :func:`causal_mask`: position ``t`` may attend to positions ``<= t`` only;
- :class:`TransformerBlock`: self-attention and a feed-forward network, each
  wrapped in a residual connection with layer normalization. Its submodules
  carry the names of ``torch.nn.TransformerEncoderLayer`` (``self_attn``,
  ``linear1``, ``linear2``, ``norm1``, ``norm2``), so that layer's
  ``state_dict`` loads into ours;
- :class:`TinyGPT`, :func:`generate` and :func:`sample`: a decoder-only
  transformer that predicts the next token (optionally with dropout and with
  its output layer tied to its token embedding, as in GPT-2), and seeded
  sampling from it.

Attention weights are returned, never hooked: ``model(ids,
return_weights=True)`` gives one ``(B, heads, T, T)`` tensor per block.
"""

import torch
from torch import nn

from introdl.attention import MultiHeadAttention
from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.text import detokenize, tokenize
from introdl.training import eval_mode

__all__ = ["layer_norm", "LayerNorm", "causal_mask", "TransformerBlock", "TinyGPT",
           "generate", "sample"]


def layer_norm(x: torch.Tensor, weight: torch.Tensor | None = None,
               bias: torch.Tensor | None = None, eps: float = 1e-5) -> torch.Tensor:
    """Normalise the last dimension of ``x`` ``(..., d)`` to mean 0 and variance
    1 (the biased variance, as ``torch.nn.functional.layer_norm``), then scale
    by ``weight`` and shift by ``bias`` (each ``(d,)`` or ``None``)."""
    if check_tensor("x", x, floating=True).ndim == 0:
        raise ValueError("x must have at least one dimension (..., d), got 0-d")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and check_tensor(name, p).shape != x.shape[-1:]:
            raise ValueError(f"{name} must be ({x.shape[-1]},), got {tuple(p.shape)}")
    check_number("eps", eps, low=0)
    centred = x - x.mean(dim=-1, keepdim=True)  # (..., d): mean 0
    var = (centred ** 2).mean(dim=-1, keepdim=True)  # (..., 1)
    x_hat = centred / torch.sqrt(var + eps)  # (..., d): variance 1
    if weight is not None:
        x_hat = x_hat * weight
    if bias is not None:
        x_hat = x_hat + bias
    return x_hat


class LayerNorm(nn.Module):
    """:func:`layer_norm` with a learned ``weight`` (ones) and ``bias``
    (zeros) of shape ``(d,)``, named as in ``torch.nn.LayerNorm``."""

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(check_positive_int("d", d)))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = check_number("eps", eps, low=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.weight, self.bias, self.eps)


def causal_mask(seq_len: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean ``(seq_len, seq_len)`` mask, ``True`` on and below the diagonal:
    query ``t`` may attend to keys ``0 .. t``, never to later positions."""
    check_positive_int("seq_len", seq_len)
    ones = torch.ones(seq_len, seq_len, dtype=torch.bool, device=device)
    return torch.tril(ones)  # (T, T)


class TransformerBlock(nn.Module):
    """One transformer block: self-attention, then a position-wise
    feed-forward network, each inside a residual connection with layer norm.

    With ``norm_first=True`` (GPT-2 and most models today)::

        x = x + SelfAttention(LayerNorm(x))
        x = x + FeedForward(LayerNorm(x))

    With ``norm_first=False`` (the original transformer) the norm comes after
    each sum: ``x = LayerNorm(x + SelfAttention(x))``, and so on.
    ``FeedForward(x) = linear2(gelu(linear1(x)))`` with hidden width ``d_ff``
    (default ``4 d_model``). ``dropout`` (default 0: none) zeroes entries of
    each sub-layer's output, in training mode only, before it is added to the
    residual stream ("residual dropout", Vaswani et al. 2017).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int | None = None,
                 norm_first: bool = True, dropout: float = 0.0):
        super().__init__()
        check_positive_int("d_model", d_model)
        d_ff = check_positive_int("d_ff", d_ff if d_ff is not None else 4 * d_model)
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.norm_first = norm_first
        self.dropout = nn.Dropout(check_number("dropout", dropout, low=0, high=1,
                                               high_open=True))

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same two-layer network at every position: ``(..., d_model)``."""
        return self.linear2(nn.functional.gelu(self.linear1(x)))  # (..., d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        """``x``: ``(B, T, d_model)``; ``mask``: boolean, broadcastable to
        ``(B, heads, T, T)``, ``True`` = may attend. Returns
        ``(output (B, T, d_model), weights (B, heads, T, T))``."""
        d_model = self.linear1.in_features
        if check_tensor("x", x, floating=True).ndim != 3 or x.shape[-1] != d_model:
            raise ValueError(f"x must be (B, T, {d_model}), got {tuple(x.shape)}")
        if self.norm_first:
            attended, weights = self.self_attn(self.norm1(x), mask=mask)
            x = x + self.dropout(attended)  # residual connection
            return x + self.dropout(self.feed_forward(self.norm2(x))), weights
        attended, weights = self.self_attn(x, mask=mask)
        x = self.norm1(x + self.dropout(attended))
        return self.norm2(x + self.dropout(self.feed_forward(x))), weights


class TinyGPT(nn.Module):
    """A decoder-only transformer language model in the style of GPT.

    Token embedding + learned position embedding -> ``num_layers`` causal
    :class:`TransformerBlock` s (pre-norm) -> :class:`LayerNorm` -> a linear
    head that scores each of the ``vocab_size`` tokens. Embeddings start small
    (normal, std 0.02, as in GPT-2). Inputs are at most ``context_len`` long.
    ``dropout`` (default 0) applies to the embeddings' sum and inside every
    block; ``tie_weights`` makes the head use the token embedding's ``(V, d)``
    matrix, one parameter for both (as GPT-2 does).
    """

    def __init__(self, vocab_size: int, context_len: int, d_model: int = 32,
                 num_heads: int = 2, num_layers: int = 2, d_ff: int | None = None,
                 dropout: float = 0.0, tie_weights: bool = False):
        super().__init__()
        self.context_len = check_positive_int("context_len", context_len)
        self.tok_emb = nn.Embedding(check_positive_int("vocab_size", vocab_size),
                                    check_positive_int("d_model", d_model))
        self.pos_emb = nn.Embedding(context_len, d_model)
        for emb in (self.tok_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=0.02)
        self.dropout = nn.Dropout(check_number("dropout", dropout, low=0, high=1,
                                               high_open=True))
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, num_heads, d_ff, dropout=dropout) for _ in
            range(check_positive_int("num_layers", num_layers)))
        self.norm = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        if tie_weights:  # one (V, d) matrix reads tokens in and scores them out
            self.head.weight = self.tok_emb.weight
        self.register_buffer("mask", causal_mask(context_len), persistent=False)

    def forward(self, ids: torch.Tensor, return_weights: bool = False):
        """``ids``: ``(B, T)`` integer token ids in ``[0, vocab_size)`` (others
        raise ``IndexError`` in the embedding), ``T <= context_len``.

        Returns logits ``(B, T, V)``, where ``logits[b, t]`` scores the token
        after ``ids[b, :t + 1]``; with ``return_weights``, also a list with each
        block's attention weights ``(B, heads, T, T)``.
        """
        if check_tensor("ids", ids).dtype not in (torch.int64, torch.int32):
            raise TypeError(f"ids must hold integer token ids, got dtype {ids.dtype}")
        if ids.ndim != 2 or ids.shape[1] > self.context_len:
            raise ValueError(f"ids must have shape (B, T) with T <= "
                             f"{self.context_len}, got {tuple(ids.shape)}")
        T = ids.shape[1]
        x = self.dropout(self.tok_emb(ids) + self.pos_emb.weight[:T])  # (B, T, d)
        all_weights = []
        for block in self.blocks:
            x, weights = block(x, mask=self.mask[:T, :T])  # (B, T, d), (B, h, T, T)
            all_weights.append(weights)
        logits = self.head(self.norm(x))  # (B, T, V)
        return (logits, all_weights) if return_weights else logits


@torch.no_grad()
def generate(model: TinyGPT, ids: torch.Tensor, num_tokens: int,
             temperature: float = 1.0, generator: torch.Generator | None = None,
             stop_id: int | None = None) -> torch.Tensor:
    """Extend ``ids`` ``(B, T0)`` by up to ``num_tokens`` tokens, each drawn from
    ``softmax(logits / temperature)`` at the last position (the model sees its
    last ``context_len`` tokens), in eval mode. Stops early once every row has
    produced ``stop_id``. Returns ``(B, T0 + generated)``; ``num_tokens=0``
    returns ``ids``. ``generator`` must be on the device of ``ids``.
    """
    check_positive_int("num_tokens", num_tokens, allow_zero=True)
    check_number("temperature", temperature, low=0, low_open=True)
    if check_tensor("ids", ids).ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"ids must be (B, T0) with T0 >= 1, got {tuple(ids.shape)}")
    if stop_id is not None:
        check_positive_int("stop_id", stop_id, allow_zero=True)
    done = torch.zeros(len(ids), dtype=torch.bool, device=ids.device)  # (B,)
    with eval_mode(model):
        for _ in range(num_tokens):
            logits = model(ids[:, -model.context_len:])[:, -1]  # (B, V)
            if not torch.isfinite(logits).all():
                raise ValueError("the model's logits are not finite (NaN or inf)")
            logits = logits - logits.amax(dim=-1, keepdim=True)  # <= 0: no overflow
            t = max(temperature, torch.finfo(logits.dtype).tiny)  # never 0 in float32
            probs = torch.softmax(logits / t, dim=-1)  # (B, V)
            next_id = torch.multinomial(probs, 1, generator=generator)  # (B, 1)
            ids = torch.cat([ids, next_id], dim=1)
            if stop_id is not None:
                done |= next_id[:, 0] == stop_id
                if done.all():
                    break
    return ids


def sample(model: TinyGPT, vocab, prompt: str, max_tokens: int = 20,
           temperature: float = 1.0, seed: int = 0, stop: str | None = ".") -> str:
    """Text generated by ``model`` after ``prompt``, reproducible from ``seed``,
    ending at the first ``stop`` token (or after ``max_tokens`` tokens; a
    ``stop`` that is not in the vocabulary never stops it).

    ``vocab`` is an :class:`introdl.text.Vocab`; the prompt is tokenized with
    :func:`introdl.text.tokenize` and the result joined with
    :func:`introdl.text.detokenize`.

    Raises:
        ValueError: if the prompt holds no token.
    """
    check_positive_int("max_tokens", max_tokens, allow_zero=True)
    check_positive_int("seed", seed, allow_zero=True)
    device = next(model.parameters()).device
    ids = vocab.encode(tokenize(prompt))[None].to(device)  # (1, T0)
    if ids.shape[1] == 0:
        raise ValueError(f"prompt must hold at least one token, got {prompt!r}")
    stop_id = vocab.stoi.get(stop) if stop is not None else None
    out = generate(model, ids, max_tokens, temperature, stop_id=stop_id,
                   generator=torch.Generator(device).manual_seed(seed))
    return detokenize(vocab.decode(out[0]))
