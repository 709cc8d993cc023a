"""The transformer block and a tiny GPT-style language model, from scratch.

- :func:`layer_norm` / :class:`LayerNorm`: normalise each position's vector;
- :func:`causal_mask`: position ``t`` may attend to positions ``<= t`` only;
- :class:`TransformerBlock`: self-attention and a feed-forward network, each
  wrapped in a residual connection with layer normalization. Its submodules
  carry the names of ``torch.nn.TransformerEncoderLayer`` (``self_attn``,
  ``linear1``, ``linear2``, ``norm1``, ``norm2``), so that layer's
  ``state_dict`` loads into ours;
- :class:`TinyGPT` and :func:`generate`: a decoder-only transformer that
  predicts the next token, and seeded sampling from it.

Attention weights are returned, never hooked: ``model(ids,
return_weights=True)`` gives one ``(B, heads, T, T)`` tensor per block.
Also the figures of the chapter "Transformers".
"""

from __future__ import annotations

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int, check_tensor
from introdl.attention import MultiHeadAttention

__all__ = ["layer_norm", "LayerNorm", "causal_mask", "TransformerBlock", "TinyGPT",
           "generate", "sentence_examples", "sample", "pronoun_attention",
           "draw_transformer_block", "draw_gpt", "plot_mask"]


def layer_norm(x: torch.Tensor, weight: torch.Tensor | None = None,
               bias: torch.Tensor | None = None, eps: float = 1e-5) -> torch.Tensor:
    """Normalise the last dimension of ``x`` to mean 0 and variance 1, then
    scale by ``weight`` and shift by ``bias`` (both ``(d,)``, optional).

    ``x``: ``(..., d)`` -> ``(..., d)``. The variance is the biased one
    (divide by ``d``), as in ``torch.nn.functional.layer_norm``.
    """
    check_tensor("x", x, floating=True)
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
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.weight, self.bias, self.eps)


def causal_mask(seq_len: int, device=None) -> torch.Tensor:
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
    ``FeedForward(x) = linear2(gelu(linear1(x)))``. No dropout.

    Args:
        d_model: width; num_heads: attention heads (must divide ``d_model``);
        d_ff: hidden width of the feed-forward network (default ``4 d_model``).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int | None = None,
                 norm_first: bool = True):
        super().__init__()
        d_ff = check_positive_int("d_ff", d_ff if d_ff is not None else 4 * d_model)
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)
        self.norm_first = norm_first

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same two-layer network at every position: ``(..., d_model)``."""
        return self.linear2(nn.functional.gelu(self.linear1(x)))  # (..., d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        """``x``: ``(B, T, d_model)``; ``mask``: boolean, broadcastable to
        ``(B, heads, T, T)``, ``True`` = may attend.

        Returns:
            ``(output (B, T, d_model), weights (B, heads, T, T))``.
        """
        if self.norm_first:
            attended, weights = self.self_attn(self.norm1(x), mask=mask)
            x = x + attended  # residual connection
            return x + self.feed_forward(self.norm2(x)), weights
        attended, weights = self.self_attn(x, mask=mask)
        x = self.norm1(x + attended)
        return self.norm2(x + self.feed_forward(x)), weights


class TinyGPT(nn.Module):
    """A decoder-only transformer language model in the style of GPT.

    Token embedding + learned position embedding -> ``num_layers`` causal
    :class:`TransformerBlock` s (pre-norm) -> :class:`LayerNorm` -> a linear
    head that scores every token of the vocabulary. Embeddings start small
    (normal, std 0.02, as in GPT-2).

    Args:
        vocab_size: number of tokens ``V``; context_len: longest input ``T``.
        d_model, num_heads, num_layers, d_ff: sizes of the blocks.
    """

    def __init__(self, vocab_size: int, context_len: int, d_model: int = 32,
                 num_heads: int = 2, num_layers: int = 2, d_ff: int | None = None):
        super().__init__()
        self.context_len = check_positive_int("context_len", context_len)
        self.tok_emb = nn.Embedding(check_positive_int("vocab_size", vocab_size),
                                    d_model)
        self.pos_emb = nn.Embedding(context_len, d_model)
        for emb in (self.tok_emb, self.pos_emb):
            nn.init.normal_(emb.weight, std=0.02)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, num_heads, d_ff) for _ in
            range(check_positive_int("num_layers", num_layers)))
        self.norm = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.register_buffer("mask", causal_mask(context_len), persistent=False)

    def forward(self, ids: torch.Tensor, return_weights: bool = False):
        """``ids``: ``(B, T)`` token ids with ``T <= context_len``.

        Returns:
            logits ``(B, T, V)``, where ``logits[b, t]`` scores the token after
            ``ids[b, :t + 1]``; with ``return_weights``, also a list with
            each block's attention weights ``(B, heads, T, T)``.
        Raises:
            ValueError: if ``ids`` is not 2-d or longer than ``context_len``.
        """
        check_tensor("ids", ids)
        if ids.ndim != 2 or ids.shape[1] > self.context_len:
            raise ValueError(f"ids must have shape (B, T) with T <= "
                             f"{self.context_len}, got {tuple(ids.shape)}")
        T = ids.shape[1]
        x = self.tok_emb(ids) + self.pos_emb.weight[:T]  # (B, T, d_model)
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
    """Extend ``ids`` ``(B, T0)`` by up to ``num_tokens`` sampled tokens.

    Each new token is drawn from ``softmax(logits / temperature)`` at the last
    position, then appended; the model sees at most its last
    ``context_len`` tokens. Generation stops early once every row has
    produced ``stop_id`` (if given). Returns ``(B, T0 + generated)``.
    """
    check_positive_int("num_tokens", num_tokens)
    check_number("temperature", temperature, low=0, low_open=True)
    was_training = model.training
    model.eval()
    done = torch.zeros(ids.shape[0], dtype=torch.bool)  # (B,)
    for _ in range(num_tokens):
        logits = model(ids[:, -model.context_len:])[:, -1]  # (B, V)
        probs = torch.softmax(logits / temperature, dim=-1)  # (B, V)
        next_id = torch.multinomial(probs, 1, generator=generator)  # (B, 1)
        ids = torch.cat([ids, next_id], dim=1)
        done |= next_id[:, 0] == stop_id
        if done.all():
            break
    model.train(was_training)
    return ids


def sentence_examples(sentences, vocab):
    """Next-token examples, one per sentence, padded to the longest.

    Each sentence is tokenized and encoded; the input is every token but the
    last, the target every token but the first, so ``Y[i, t]`` is the token
    after ``X[i, t]``. Padding positions get the target
    :data:`~introdl.tasks.IGNORE_INDEX`, so the loss skips them.

    Args:
        sentences: a list of strings; vocab: an :class:`introdl.text.Vocab`
            with a padding token.
    Returns:
        ``(X, Y)``: int64 tensors ``(n, T_max - 1)``.
    """
    from introdl.losses import IGNORE_INDEX
    from introdl.text import pad_batch, tokenize

    if vocab.pad_id is None:
        raise ValueError("vocab must have a padding token")
    batch, _ = pad_batch([vocab.encode(tokenize(s)) for s in sentences],
                         vocab.pad_id)  # (n, T_max)
    Y = batch[:, 1:].masked_fill(batch[:, 1:] == vocab.pad_id, IGNORE_INDEX)
    return batch[:, :-1], Y  # (n, T_max - 1) each


def sample(model: TinyGPT, vocab, prompt: str, max_tokens: int = 20,
           temperature: float = 1.0, seed: int = 0, stop: str | None = ".") -> str:
    """Text generated by ``model`` after ``prompt``, reproducible from ``seed``,
    ending at the first ``stop`` token (or after ``max_tokens`` tokens).

    ``vocab`` is an :class:`introdl.text.Vocab`; the prompt is tokenized with
    :func:`introdl.text.tokenize` and the result joined with
    :func:`introdl.text.detokenize`.
    """
    from introdl.text import detokenize, tokenize

    ids = vocab.encode(tokenize(prompt))[None]  # (1, T0)
    if ids.shape[1] == 0:
        raise ValueError("prompt must hold at least one token")
    stop_id = vocab.stoi.get(stop) if stop is not None else None
    out = generate(model, ids, max_tokens, temperature,
                   generator=torch.Generator().manual_seed(seed), stop_id=stop_id)
    return detokenize(vocab.decode(out[0]))


@torch.no_grad()
def pronoun_attention(model: TinyGPT, X: torch.Tensor, vocab) -> torch.Tensor:
    """Where does the model look when it must choose "she" or "he"?

    For every row of ``X`` ``(n, T)`` (one sentence per row, as made by
    :func:`sentence_examples`) where "and" is followed by "she" or "he", take
    the attention weight from "and" (the position that predicts the pronoun)
    to position 0, the sentence's first word (the name the pronoun refers to).

    Returns:
        The mean of those weights per block and head, shape ``(layers, heads)``.
    Raises:
        ValueError: if no row of ``X`` holds "and she" or "and he".
    """
    and_id = vocab.stoi.get("and", -1)
    pronouns = torch.tensor([vocab.stoi.get(w, -1) for w in ("she", "he")])
    hits = (X[:, :-1] == and_id) & torch.isin(X[:, 1:], pronouns)
    rows, cols = hits.nonzero(as_tuple=True)  # positions of "and" before a pronoun
    if len(rows) == 0:
        raise ValueError('X holds no "and she" or "and he"')
    _, weights = model(X[rows], return_weights=True)  # per block: (n, h, T, T)
    return torch.stack([w[torch.arange(len(rows)), :, cols, 0].mean(0)
                        for w in weights])  # (layers, heads)


# ---- figures -------------------------------------------------------------------

def draw_transformer_block():
    """Diagram of a (pre-norm) transformer block, bottom to top: layer norm,
    masked multi-head self-attention, residual sum; layer norm, feed-forward
    network, residual sum (the notes' missing "transformers" image).
    Returns the ``Figure``."""
    import matplotlib.patches as mpatches

    from introdl.figures import diagrams
    from introdl.figures.style import PALETTE

    fig, ax = diagrams.new_diagram(6.4, 4.6, xlim=(0, 10), ylim=(0, 11.4))
    cx, rx = 5.0, 2.3  # main column, residual path
    ys = {"in": 0.4, "ln1": 2.3, "attn": 3.7, "add1": 5.1, "ln2": 6.6, "ff": 8.0,
          "add2": 9.4, "out": 10.9}
    radius = {"in": 0.25, "ln1": 0.4, "attn": 0.55, "add1": 0.35, "ln2": 0.4,
              "ff": 0.55, "add2": 0.35, "out": 0.25}
    diagrams.caption(ax, (cx, ys["in"]), "input $x$: one vector per position",
                     fontsize=9)
    for key, label in (("ln1", "layer norm"), ("ln2", "layer norm")):
        diagrams.box(ax, (cx, ys[key]), label, width=3.0, height=0.8, kind="plain")
    diagrams.box(ax, (cx, ys["attn"]), "multi-head self-attention\n(causal mask)",
                 width=4.0, height=1.1, kind="hidden")
    diagrams.box(ax, (cx, ys["ff"]), "feed-forward network\n(same at each position)",
                 width=4.0, height=1.1, kind="op")
    for key in ("add1", "add2"):
        diagrams.node(ax, (cx, ys[key]), "+", kind="plain", radius=0.35)
    diagrams.caption(ax, (cx, ys["out"]), "output: same shape as $x$", fontsize=9)
    keys = list(ys)
    for a, b in zip(keys, keys[1:]):
        diagrams.arrow(ax, (cx, ys[a]), (cx, ys[b]), r_start=radius[a],
                       r_end=radius[b])
    for branch, add in ((ys["in"] + 1.0, "add1"), (ys["add1"] + 0.75, "add2")):
        ax.plot([cx, rx, rx], [branch, branch, ys[add]], color=PALETTE[1],
                linestyle="-", linewidth=1.2, zorder=1)
        ax.plot([cx], [branch], marker="o", markersize=4, color=PALETTE[1])
        diagrams.arrow(ax, (rx, ys[add]), (cx, ys[add]), r_start=0, r_end=0.35,
                       color=PALETTE[1])
        ax.text(rx - 0.15, (branch + ys[add]) / 2, "residual connection",
                rotation=90, ha="right", va="center", fontsize=8,
                color=PALETTE[1])
    ax.add_patch(mpatches.FancyBboxPatch(
        (1.2, 1.0), 6.6, 8.95, boxstyle="round,pad=0.05,rounding_size=0.3",
        facecolor="none", edgecolor="#777777", linestyle="--", linewidth=1))
    ax.text(8.0, 5.5, r"$\times N$" + "\nblocks", ha="left", va="center",
            fontsize=10)
    return fig


def draw_gpt(num_layers: int = 2):
    """Diagram of a GPT-style model, left to right: tokens, token and position
    embeddings, ``num_layers`` transformer blocks, final layer norm, a linear
    layer and softmax giving the next-token probabilities.
    Returns the ``Figure``."""
    from introdl.figures import diagrams

    check_positive_int("num_layers", num_layers)
    fig, ax = diagrams.new_diagram(6.4, 1.4, xlim=(0, 16), ylim=(0.3, 3.4))
    items = [("token ids", "input", 1.6),
             ("token +\nposition\nembedding", "hidden", 1.9)]
    items += [(f"block {i + 1}", "op", 1.5) for i in range(num_layers)]
    items += [("layer\nnorm", "plain", 1.3), ("linear +\nsoftmax", "hidden", 1.7),
              ("next-token\nprobabilities", "output", 2.1)]
    gap = (16 - sum(w for *_, w in items)) / (len(items) + 1)
    x = gap
    centres = []
    for label, kind, w in items:
        diagrams.box(ax, (x + w / 2, 2.3), label, width=w, height=1.8, kind=kind,
                     fontsize=8.5)
        centres.append((x, x + w))
        x += w + gap
    for (_, right), (left, _) in zip(centres, centres[1:]):
        diagrams.arrow(ax, (right, 2.3), (left, 2.3), r_start=0.02, r_end=0.02)
    diagrams.caption(ax, ((centres[2][0] + centres[1 + num_layers][1]) / 2, 0.7),
                     "causal self-attention inside each block")
    return fig


def plot_mask(mask: torch.Tensor, tokens: list[str] | None = None, *, ax=None):
    """Heatmap of a boolean mask ``(L, S)``: dark where a query (row) may
    attend to a key (column), white where it may not. Returns the ``Figure``."""
    from introdl.figures.style import plot_heatmap

    fig = plot_heatmap(mask.float(), ax=ax, cmap="Greys", vmin=0, vmax=1.3,
                       colorbar=False, xlabels=tokens, ylabels=tokens,
                       xlabel="key", ylabel="query")
    ax = ax if ax is not None else fig.axes[0]
    L, S = mask.shape
    ax.set_xticks([j - 0.5 for j in range(1, S)], minor=True)
    ax.set_yticks([i - 0.5 for i in range(1, L)], minor=True)
    ax.grid(which="minor", color="white", linewidth=1, alpha=1)
    ax.tick_params(which="minor", length=0)
    ax.set_aspect("equal")
    return fig
