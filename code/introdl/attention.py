"""Attention from scratch: scaled dot-product attention, positional encoding,
single-head self-attention and multi-head attention.

Every attention function returns its weights next to its output, so heatmaps
need no hooks. :class:`MultiHeadAttention` uses the parameter names and shapes
of ``torch.nn.MultiheadAttention`` (``in_proj_weight``, ``in_proj_bias``,
``out_proj``), so a built-in layer's ``state_dict`` loads into it.

Masks follow PyTorch's boolean ``attn_mask`` convention: ``True`` means
"may attend". (``torch.nn.MultiheadAttention`` uses the opposite convention
for its boolean masks: there ``True`` means "may *not* attend".)

Also the toy model and figure functions of the chapter "Attention".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_positive_int, check_tensor

__all__ = ["scaled_dot_product_attention", "positional_encoding", "SelfAttention",
           "MultiHeadAttention", "OneLayerAttention", "ReversalRun", "train_reversal",
           "alignment_score", "score_spread", "draw_attention_steps",
           "plot_score_scaling", "plot_positional_encoding", "plot_alignment",
           "plot_head_weights"]


def _check_qkv(q, k, v):
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, t, floating=True)
        if t.ndim < 2:
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


def _check_mask(mask, scores_shape):
    check_tensor("mask", mask)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a boolean tensor (True = may attend), "
                        f"got dtype {mask.dtype}")
    try:
        ok = torch.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"mask has shape {tuple(mask.shape)}, which does not "
                         f"broadcast to the scores' shape {tuple(scores_shape)}")


def _apply_mask(scores: torch.Tensor, mask: torch.Tensor):
    """Add -inf to ``scores`` where ``mask`` is False (in place), so that the
    softmax gives exactly 0 there. Rows that are False everywhere would give
    0/0 = NaN: they are set to 0 and returned as ``empty`` ``(..., L, 1)``
    (``None`` if there are none) for the caller to zero after the softmax."""
    blocked = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device)
    scores = scores.add_(blocked.masked_fill_(~mask, float("-inf")))  # (..., L, S)
    empty = ~mask.any(dim=-1, keepdim=True)  # (..., L, 1)
    if not empty.any():
        return scores, None
    return scores.masked_fill(empty, 0.0), empty


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None):
    """Attention of queries ``q`` over keys ``k``, reading values ``v``.

    ``weights = softmax(q k^T / sqrt(d_k))`` row by row, ``output = weights v``.

    Args:
        q: queries, shape ``(..., L, d_k)``.
        k: keys, shape ``(..., S, d_k)``.
        v: values, shape ``(..., S, d_v)``. The leading ``...`` dimensions of
            ``q``, ``k`` and ``v`` broadcast against each other.
        mask: optional boolean tensor broadcastable to ``(..., L, S)``;
            ``True`` means query ``i`` may attend to key ``j``.
    Returns:
        ``(output, weights)``: ``output`` of shape ``(..., L, d_v)`` and
        ``weights`` of shape ``(..., L, S)``, non-negative, each row summing to
        1 and exactly 0 where ``mask`` is False. A query whose row of the mask
        is all False has nothing to attend to: its weights are all 0 and its
        output is 0 (as in PyTorch), instead of the NaN a plain softmax gives.
    Raises:
        TypeError: if an argument is not a tensor, ``q``, ``k``, ``v`` are not
            of one floating dtype, or ``mask`` is not boolean.
        ValueError: if ``q`` and ``k`` differ in ``d_k``, ``k`` and ``v``
            differ in length, or ``mask`` does not broadcast (messages name the
            shapes).
    """
    _check_qkv(q, k, v)
    L, S = q.shape[-2], k.shape[-2]
    scores_shape = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (L, S)
    if mask is not None:
        _check_mask(mask, scores_shape)
    scores = (q / math.sqrt(q.shape[-1])) @ k.transpose(-2, -1)  # (..., L, S)
    empty = None
    if mask is not None:
        scores, empty = _apply_mask(scores, mask)
    if torch.is_grad_enabled() and scores.requires_grad:
        weights = torch.softmax(scores, dim=-1)  # (..., L, S)
    else:  # no gradient needed: overwrite the scores, saving an (L, S) copy
        weights = torch.softmax(scores, dim=-1, out=scores)  # (..., L, S)
    if empty is not None:  # rows with nothing to attend to get weights 0
        weights = weights.masked_fill(empty, 0.0)
    return weights @ v, weights  # (..., L, d_v), (..., L, S)


def positional_encoding(seq_len: int, d_model: int,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The sinusoidal positional encoding of Vaswani et al. (2017).

    ``PE[pos, 2i] = sin(pos / 10000^(2i/d_model))`` and
    ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model))``. For an odd ``d_model``
    the last column is a sine (its cosine partner would be column ``d_model``).

    Args:
        seq_len: number of positions ``0 .. seq_len-1``.
        d_model: number of features per position.
    Returns:
        Tensor of shape ``(seq_len, d_model)`` with values in ``[-1, 1]``.
    Raises:
        ValueError: if ``seq_len`` or ``d_model`` is not positive.
    """
    check_positive_int("seq_len", seq_len)
    check_positive_int("d_model", d_model)
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]  # (seq_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(d/2),)
    angles = pos / 10000 ** (two_i / d_model)  # (seq_len, ceil(d/2))
    pe = torch.empty(seq_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return pe.to(dtype)


class SelfAttention(nn.Module):
    """Single-head self-attention: queries, keys and values all come from ``x``.

    Three weight matrices map each position's vector to its query, key and
    value (``Q = x W_q``, ``K = x W_k``, ``V = x W_v``); then
    :func:`scaled_dot_product_attention` does the rest.

    Args:
        d_model: features per input position.
        d_k: size of queries and keys (default ``d_model``).
        d_v: size of values and outputs (default ``d_k``).
        bias: add a bias to the three projections.
    """

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
        """``x``: ``(..., L, d_model)`` -> ``(output (..., L, d_v),
        weights (..., L, L))``; ``mask`` as in :func:`scaled_dot_product_attention`."""
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)  # (..., L, d_k|d_k|d_v)
        return scaled_dot_product_attention(q, k, v, mask)


class MultiHeadAttention(nn.Module):
    """Multi-head attention, with ``torch.nn.MultiheadAttention``'s parameters.

    The input projections of queries, keys and values are stacked in
    ``in_proj_weight`` ``(3E, E)`` and ``in_proj_bias`` ``(3E,)``; the heads'
    concatenated outputs pass through ``out_proj`` (a ``Linear(E, E)``).
    Inputs are batch-first, like ``batch_first=True``; there is no dropout.

    Args:
        embed_dim: model width ``E``; must be divisible by ``num_heads``.
        num_heads: number of heads ``h``; each works in ``E / h`` dimensions.
        bias: learn the input and output biases.
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
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, -1).transpose(1, 2)  # (B, h, T, E/h)

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None, mask: torch.Tensor | None = None):
        """Attend from ``query`` ``(B, L, E)`` over ``key``/``value`` ``(B, S, E)``.

        ``key`` and ``value`` default to ``query`` (self-attention). ``mask``
        is boolean, broadcastable to ``(B, h, L, S)``, ``True`` = may attend.

        Returns:
            ``(output, weights)``: output ``(B, L, E)`` and the per-head
            attention weights ``(B, h, L, S)``.
        """
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_tensor(name, t, floating=True)
            if t.ndim != 3 or t.shape[-1] != self.embed_dim:
                raise ValueError(f"{name} must have shape (B, length, "
                                 f"{self.embed_dim}), got {tuple(t.shape)}")
        W_q, W_k, W_v = self.in_proj_weight.chunk(3)  # each (E, E)
        b_q, b_k, b_v = (self.in_proj_bias.chunk(3) if self.in_proj_bias is not None
                         else (0.0, 0.0, 0.0))
        q = self._split_heads(query @ W_q.T + b_q)  # (B, h, L, E/h)
        k = self._split_heads(key @ W_k.T + b_k)  # (B, h, S, E/h)
        v = self._split_heads(value @ W_v.T + b_v)  # (B, h, S, E/h)
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, h, L, E/h)
        out = out.transpose(1, 2).reshape(query.shape)  # concatenate heads: (B, L, E)
        return self.out_proj(out), weights


# ---- a toy model whose correct attention is known -----------------------------

class OneLayerAttention(nn.Module):
    """Tokens -> embedding + positional encoding -> one self-attention head ->
    a score for every token at every position.

    ``x_t = E[X_t] + pos_scale * PE[t]``, then :class:`SelfAttention`, then a
    linear read-out. The embeddings start small (normal, std ``init_std``),
    so at first the positions dominate what the head sees.

    Args:
        vocab_size: number of tokens; seq_len: positions ``L``.
        d_model: width; pos_scale: weight of the positional encoding.
    """

    def __init__(self, vocab_size: int, seq_len: int, d_model: int = 32,
                 pos_scale: float = 2.0, init_std: float = 0.1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=init_std)
        self.register_buffer("pe", pos_scale * positional_encoding(seq_len, d_model))
        self.attention = SelfAttention(d_model)
        self.readout = nn.Linear(d_model, vocab_size)

    def forward(self, X: torch.Tensor, return_weights: bool = False):
        """``X``: ``(B, L)`` token ids -> logits ``(B, L, vocab_size)``, and
        the attention weights ``(B, L, L)`` if ``return_weights``."""
        x = self.embedding(X) + self.pe  # (B, L, d_model)
        h, weights = self.attention(x)  # (B, L, d_model), (B, L, L)
        logits = self.readout(h)  # (B, L, V)
        return (logits, weights) if return_weights else logits


def alignment_score(weights: torch.Tensor, expected: torch.Tensor) -> float:
    """Mean attention mass on the expected positions: ``(weights *
    expected).sum(-1)`` averaged over rows. 1 means a perfect alignment.

    Args:
        weights: ``(..., L, S)``; expected: 0/1 matrix broadcastable to it,
            one 1 per row.
    """
    return (weights * expected).sum(-1).mean().item()


@dataclass
class ReversalRun:
    """What :func:`train_reversal` returns: the trained model, its
    :class:`~introdl.training.History`, test data, the test weights
    ``(n, L, L)`` before and after training, and test accuracy per token."""

    model: OneLayerAttention
    history: object
    X_test: torch.Tensor
    y_test: torch.Tensor
    weights_before: torch.Tensor
    weights_after: torch.Tensor
    accuracy: float


def train_reversal(seq_len: int = 8, vocab_size: int = 10, n_train: int = 2000,
                   num_epochs: int = 8, d_model: int = 32, pos_scale: float = 2.0,
                   lr: float = 1e-2, seed: int = 0) -> ReversalRun:
    """Train :class:`OneLayerAttention` to reverse sequences
    (:func:`introdl.tasks.reversal_task`) with :func:`introdl.training.fit`
    (Adam, mini-batches of 100) and keep its attention before and after."""
    from introdl.losses import sequence_accuracy, sequence_cross_entropy
    from introdl.tasks import reversal_task
    from introdl.training import fit

    X, y = reversal_task(n_train, seq_len, vocab_size, seed=seed)
    X_test, y_test = reversal_task(500, seq_len, vocab_size, seed=seed + 1)
    torch.manual_seed(seed)
    model = OneLayerAttention(vocab_size, seq_len, d_model, pos_scale)
    with torch.no_grad():
        before = model(X_test, return_weights=True)[1]  # (n, L, L)
    history = fit(model, (X, y), loss_fn=sequence_cross_entropy,
                  optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                  num_epochs=num_epochs, batch_size=100,
                  generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        logits, after = model(X_test, return_weights=True)
    return ReversalRun(model, history, X_test, y_test, before, after,
                       sequence_accuracy(logits, y_test))


# ---- figures -------------------------------------------------------------------

def score_spread(d_ks=(4, 16, 64, 256, 1024), n: int = 2000, num_keys: int = 8,
                 seed: int = 0) -> dict:
    """Why divide by ``sqrt(d_k)``: the spread of dot products of random vectors.

    For each ``d_k``, draws ``n`` pairs of vectors with independent standard
    normal entries and measures the standard deviation of ``q . k`` (it grows
    like ``sqrt(d_k)``) and of ``q . k / sqrt(d_k)`` (it stays near 1). Also
    returns the softmax weights of one query over ``num_keys`` keys at the
    largest ``d_k``, unscaled and scaled.

    Returns:
        dict with lists ``"d_k"``, ``"unscaled"``, ``"scaled"`` and tensors
        ``"weights_unscaled"``, ``"weights_scaled"`` of shape ``(num_keys,)``.
    """
    g = torch.Generator().manual_seed(seed)
    out = {"d_k": list(d_ks), "unscaled": [], "scaled": []}
    for d_k in d_ks:
        dots = (torch.randn(n, d_k, generator=g) * torch.randn(n, d_k, generator=g)
                ).sum(-1)  # (n,)
        out["unscaled"].append(dots.std().item())
        out["scaled"].append((dots / math.sqrt(d_k)).std().item())
    q = torch.randn(1, d_ks[-1], generator=g)  # (1, d_k)
    k = torch.randn(num_keys, d_ks[-1], generator=g)  # (num_keys, d_k)
    out["weights_unscaled"] = torch.softmax(q @ k.T, dim=-1)[0]
    out["weights_scaled"] = scaled_dot_product_attention(q, k, k)[1][0]
    return out


def plot_score_scaling(spread: dict):
    """Two panels from :func:`score_spread`: the spread of the scores against
    ``d_k`` (log-log), and one query's softmax weights with and without the
    scaling. Returns the ``Figure``."""
    from introdl.figures.style import PALETTE, new_figure

    fig, (ax1, ax2) = new_figure(ncols=2, height=2.9)
    ax1.plot(spread["d_k"], spread["unscaled"], marker="o", label=r"$q \cdot k$")
    ax1.plot(spread["d_k"], spread["scaled"], marker="s",
             label=r"$q \cdot k / \sqrt{d_k}$")
    ax1.set(xscale="log", yscale="log", xlabel="$d_k$",
            ylabel="standard deviation of the score")
    ax1.set_xticks(spread["d_k"], labels=[str(d) for d in spread["d_k"]])
    ax1.minorticks_off()
    ax1.legend()
    keys = range(len(spread["weights_scaled"]))
    ax2.bar([i - 0.2 for i in keys], spread["weights_unscaled"].tolist(), width=0.4,
            color=PALETTE[0], label="unscaled", edgecolor="black", linewidth=0.5)
    ax2.bar([i + 0.2 for i in keys], spread["weights_scaled"].tolist(), width=0.4,
            color=PALETTE[1], hatch="//", label="scaled", edgecolor="black",
            linewidth=0.5)
    ax2.set(xlabel=f"key ($d_k$ = {spread['d_k'][-1]})", ylabel="attention weight",
            ylim=(0, 1.05))
    ax2.set_xticks(list(keys))
    ax2.legend()
    return fig


def plot_positional_encoding(pe: torch.Tensor, dims=(4, 10, 16, 24)):
    """Heatmap of a positional encoding ``pe`` ``(seq_len, d_model)`` (left)
    and a few of its columns against the position (right).

    Returns the ``Figure``.
    """
    from introdl.figures.style import new_figure, plot_heatmap

    fig, (ax1, ax2) = new_figure(ncols=2, height=3.0)
    plot_heatmap(pe.T, ax=ax1, cmap="PuOr", vmin=-1, vmax=1, xlabel="position",
                 ylabel="dimension")
    ax1.invert_yaxis()
    for i in dims:
        kind = "sin" if i % 2 == 0 else "cos"
        ax2.plot(pe[:, i].tolist(), label=f"dim {i} ({kind})")
    ax2.set(xlabel="position", ylabel="value", ylim=(-1.1, 1.1))
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2, fontsize=8)
    return fig


def plot_alignment(before: torch.Tensor, after: torch.Tensor,
                   expected: torch.Tensor, in_tokens: list[str] | None = None,
                   out_tokens: list[str] | None = None):
    """Three attention heatmaps ``(L, L)`` side by side, on one colour scale:
    before training, after training, and the expected alignment.

    ``in_tokens`` (optional) label the key columns, ``out_tokens`` the query
    rows; by default both are the positions ``0 .. L-1``.
    Returns the ``Figure``.
    """
    from introdl.figures.style import new_figure, plot_heatmap

    fig, axes = new_figure(ncols=3, height=2.6, sharey=True)
    ticks = [str(i) for i in range(before.shape[-1])]
    panels = (("before training", before), ("after training", after),
              ("expected (reversal)", expected))
    for ax, (title, w) in zip(axes, panels):
        plot_heatmap(w, ax=ax, vmin=0, vmax=1, title=title, cmap="Blues",
                     colorbar=ax is axes[-1], xlabel="input token (key)",
                     xlabels=in_tokens or ticks, ylabels=out_tokens or ticks)
        ax.tick_params(axis="x", rotation=0)
    axes[0].set_ylabel("output token (query)")
    return fig


def plot_head_weights(weights: torch.Tensor, tokens: list[str], *,
                      query_tokens: list[str] | None = None, prefix: str = ""):
    """One heatmap per attention head, on one colour scale from 0 to 1.

    Args:
        weights: ``(h, L, S)`` for one layer (one row of panels) or
            ``(layers, h, L, S)`` (one row per layer).
        tokens: labels of the ``S`` key columns; query_tokens: labels of the
            ``L`` query rows (default ``tokens``).
        prefix: text put before each panel's title, e.g. ``"block 2, "``.
    Returns:
        The ``Figure``.
    """
    from introdl.figures.style import new_figure, plot_heatmap

    w = weights.detach()
    if w.ndim == 3:
        w = w[None]
    if w.ndim != 4:
        raise ValueError(f"weights must be (h, L, S) or (layers, h, L, S), got "
                         f"shape {tuple(weights.shape)}")
    layers, h = w.shape[:2]
    fig, axes = new_figure(ncols=h, nrows=layers, height=3.0 * layers,
                           sharex=True, sharey=True, squeeze=False)
    for i in range(layers):
        for j in range(h):
            title = f"head {j + 1}" if layers == 1 else f"layer {i + 1}, head {j + 1}"
            title = prefix + title
            plot_heatmap(w[i, j], ax=axes[i][j], vmin=0, vmax=1, cmap="Blues",
                         title=title, colorbar=False, xlabels=tokens,
                         ylabels=query_tokens or tokens)
    fig.colorbar(axes[0][0].images[0], ax=axes, shrink=0.6, label="attention weight")
    return fig


def draw_attention_steps():
    """Diagram of the five steps of self-attention: encode position; compute
    queries, keys and values with three weight matrices; scaled dot-product
    similarity; softmax attention weights; weighted sum of the values.
    Returns the ``Figure``."""
    from introdl.figures import diagrams
    from introdl.figures.style import PALETTE

    fig, ax = diagrams.new_diagram(6.4, 3.0, xlim=(0, 13), ylim=(0, 6.1))
    X, Q, K, V = (1.3, 3.0), (4.1, 4.6), (4.1, 3.0), (4.1, 1.2)
    S, W, O = (7.2, 3.8), (9.6, 3.8), (11.6, 2.0)
    diagrams.box(ax, X, "tokens\n+ positions\n$X$", width=2.0, height=1.5,
                 kind="input")
    for xy, lab in ((Q, "$Q = X W_Q$"), (K, "$K = X W_K$"), (V, "$V = X W_V$")):
        diagrams.box(ax, xy, lab, width=2.0, height=0.8, kind="hidden")
        diagrams.arrow(ax, (X[0] + 1.0, X[1]), (xy[0] - 1.0, xy[1]), r_start=0,
                       r_end=0)
    diagrams.box(ax, S, r"$\frac{Q K^T}{\sqrt{d_k}}$", width=2.0, height=1.0)
    diagrams.box(ax, W, "softmax", width=1.7, height=0.8)
    diagrams.box(ax, O, r"$A\,V$", width=1.4, height=0.8, kind="output")
    diagrams.arrow(ax, (Q[0] + 1.0, Q[1]), (S[0] - 1.0, S[1] + 0.2), r_start=0,
                   r_end=0)
    diagrams.arrow(ax, (K[0] + 1.0, K[1]), (S[0] - 1.0, S[1] - 0.2), r_start=0,
                   r_end=0)
    diagrams.arrow(ax, (S[0] + 1.0, S[1]), (W[0] - 0.85, W[1]), r_start=0, r_end=0)
    diagrams.arrow(ax, (W[0], W[1] - 0.4), (O[0] - 0.3, O[1] + 0.4), r_start=0,
                   r_end=0, label="$A$", label_pos=0.45)
    diagrams.arrow(ax, (V[0] + 1.0, V[1]), (O[0] - 0.7, O[1] - 0.2), r_start=0,
                   r_end=0)
    steps = ((X[0], 5.6, "1 encode\nposition"), (Q[0], 5.6, "2 queries, keys,\nvalues"),
             (S[0], 5.6, "3 similarity"), (W[0], 5.6, "4 attention\nweights"),
             (O[0], 0.5, "5 extract\nvalues"))
    for x, y, text in steps:
        ax.text(x, y, text, ha="center", va="center", fontsize=8.5,
                color=PALETTE[1], fontweight="bold")
    return fig
