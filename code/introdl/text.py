"""Turning text into tensors: tokens, a vocabulary, one-hot vectors, batches.

The pipeline of the chapter "Predicting the next word" and of every later
chapter that models language::

    tokens = tokenize(text)                  # ["bob", "eats", "the", "cake", "."]
    vocab = Vocab.build(tokens)              # token <-> integer id
    ids = vocab.encode(tokens)               # LongTensor (n,)
    X, Y = lm_windows(ids, seq_len=16)       # (N, 16) inputs, (N, 16) next tokens
    x = one_hot(ids, len(vocab))             # (n, V) float, or use an embedding

The book's text is :mod:`introdl.corpus`. Also here: the figures of the
chapter (the embedding diagram and a labelled 2-D map of learned embeddings).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

import torch

from introdl.checks import check_ndim, check_positive_int, check_tensor

__all__ = ["PAD", "UNK", "tokenize", "detokenize", "Vocab", "one_hot", "bag_of_words",
           "pad_batch", "lm_windows", "nearest_tokens", "pca_2d", "draw_embedding",
           "plot_embeddings_2d"]

PAD = "<pad>"  #: padding token, id 0 in a vocabulary built with the defaults
UNK = "<unk>"  #: stands for every token not in the vocabulary, id 1 by default

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-case word tokens; punctuation marks are
    tokens of their own: ``"Bob's cat, asleep."`` -> ``["bob's", "cat", ",",
    "asleep", "."]``.

    Raises:
        TypeError: if ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def detokenize(tokens: Iterable[str]) -> str:
    """Join tokens with spaces, without a space before ``. , ! ? ; :``."""
    return re.sub(r" ([.,!?;:])", r"\1", " ".join(tokens))


class Vocab:
    """A vocabulary: the list of known tokens and the id of each.

    Ids are positions in ``itos`` ("index to string"); ``stoi`` maps
    back. Any token not in the vocabulary encodes to the id of ``unk_token``.

    Args:
        itos: the distinct tokens, in id order; must contain ``unk_token``.
        unk_token: the unknown token; pad_token: the padding token (or None).
    Raises:
        ValueError: if ``itos`` has duplicates or lacks a special token.
    """

    def __init__(self, itos: Sequence[str], unk_token: str = UNK,
                 pad_token: str | None = PAD):
        itos = list(itos)
        if len(set(itos)) != len(itos):
            dupes = sorted(t for t, c in Counter(itos).items() if c > 1)
            raise ValueError(f"itos must not repeat tokens, got duplicates {dupes}")
        for name, token in (("unk_token", unk_token), ("pad_token", pad_token)):
            if token is not None and token not in itos:
                raise ValueError(f"{name} {token!r} must be in itos")
        self.itos = itos
        self.stoi = {t: i for i, t in enumerate(itos)}
        self.unk_token, self.pad_token = unk_token, pad_token

    @classmethod
    def build(cls, tokens: Iterable[str], min_freq: int = 1,
              specials: Sequence[str] = (PAD, UNK)) -> "Vocab":
        """A vocabulary of the tokens seen at least ``min_freq`` times.

        Ids: first the ``specials`` (by default ``<pad>`` = 0, ``<unk>`` = 1),
        then the tokens from most to least frequent (ties alphabetically), so
        the same text always gives the same ids.

        Raises:
            ValueError: if ``specials`` does not include :data:`UNK`.
        """
        check_positive_int("min_freq", min_freq)
        if UNK not in specials:
            raise ValueError(f"specials must include {UNK!r}, got {tuple(specials)}")
        counts = Counter(tokens)
        kept = sorted((t for t, c in counts.items() if c >= min_freq and
                       t not in specials), key=lambda t: (-counts[t], t))
        pad = PAD if PAD in specials else None
        return cls([*specials, *kept], unk_token=UNK, pad_token=pad)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, first={self.itos[:6]})"

    @property
    def unk_id(self) -> int:
        return self.stoi[self.unk_token]

    @property
    def pad_id(self) -> int | None:
        return None if self.pad_token is None else self.stoi[self.pad_token]

    def encode(self, tokens: Sequence[str]) -> torch.Tensor:
        """Ids of ``tokens`` as a LongTensor ``(n,)``; unknown tokens -> ``unk_id``.

        Raises:
            TypeError: if ``tokens`` is a single string (tokenize it first).
        """
        if isinstance(tokens, str):
            raise TypeError("tokens must be a sequence of tokens, got a str: "
                            "use tokenize(text) first")
        unk = self.unk_id
        return torch.tensor([self.stoi.get(t, unk) for t in tokens], dtype=torch.long)

    def decode(self, ids) -> list[str]:
        """Tokens of ``ids`` (a 1-d tensor or a sequence of ints).

        Raises:
            ValueError: if an id is outside ``[0, len(self))``.
        """
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        if ids and isinstance(ids[0], list):
            raise ValueError("ids must be 1-d; decode each row separately")
        bad = [i for i in ids if not 0 <= i < len(self.itos)]
        if bad:
            raise ValueError(f"ids must lie in [0, {len(self.itos)}), got {bad[:5]}")
        return [self.itos[i] for i in ids]


def one_hot(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot vectors: ``out[..., k] = 1.0`` where ``ids[...] == k``, else 0.

    Args:
        ids: integer tensor of any shape ``(...)`` with values in
            ``[0, num_classes)``.
    Returns:
        A float32 tensor ``(..., num_classes)``.
    Raises:
        TypeError: if ``ids`` is not an integer tensor.
        ValueError: if an id is outside ``[0, num_classes)``.
    """
    check_tensor("ids", ids)
    check_positive_int("num_classes", num_classes)
    if ids.is_floating_point() or ids.dtype == torch.bool:
        raise TypeError(f"ids must have an integer dtype, got {ids.dtype}")
    if ids.numel() and (ids.min() < 0 or ids.max() >= num_classes):
        raise ValueError(f"ids must lie in [0, {num_classes}), got values from "
                         f"{ids.min().item()} to {ids.max().item()}")
    eye = torch.eye(num_classes)  # (V, V): row k is the one-hot vector of k
    return eye[ids]  # (..., V)


def bag_of_words(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Count of each token id: the sum of the one-hot vectors over the last
    axis of ``ids`` ``(..., T)``. Returns float32 ``(..., num_classes)``; the
    order of the tokens is lost."""
    return one_hot(ids, num_classes).sum(dim=-2)  # (..., T, V) -> (..., V)


def pad_batch(sequences: Sequence[torch.Tensor], pad_id: int = 0):
    """Stack 1-d id tensors of different lengths into one padded batch.

    Returns:
        ``(batch, lengths)``: a LongTensor ``(B, T_max)`` where row ``b``
        holds ``sequences[b]`` followed by ``pad_id``, and ``lengths`` ``(B,)``.
    Raises:
        ValueError: if ``sequences`` is empty or holds a tensor that is not 1-d.
    """
    if len(sequences) == 0:
        raise ValueError("sequences must hold at least one sequence")
    for i, s in enumerate(sequences):
        check_tensor(f"sequences[{i}]", s)
        check_ndim(f"sequences[{i}]", s, (1,))
    lengths = torch.tensor([len(s) for s in sequences])  # (B,)
    batch = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(sequences):
        batch[i, :len(s)] = s
    return batch, lengths


def lm_windows(ids: torch.Tensor, seq_len: int, stride: int | None = None):
    """Cut a token stream into language-modelling examples.

    Window ``i`` starts at token ``i * stride``: its input is ``seq_len``
    tokens and its target is the same window shifted by one, so ``Y[i, t]``
    is the token that follows ``X[i, t]``.

    Args:
        ids: token ids ``(n,)``, at least ``seq_len + 1`` of them.
        seq_len: tokens per window; stride: start-to-start distance
            (default ``seq_len``: non-overlapping windows; ``1``: every start).
    Returns:
        ``(X, Y)``, LongTensors ``(N, seq_len)`` with
        ``N = (n - 1 - seq_len) // stride + 1``.
    Raises:
        ValueError: if ``ids`` is not 1-d or too short for one window.
    """
    check_tensor("ids", ids)
    check_ndim("ids", ids, (1,))
    check_positive_int("seq_len", seq_len)
    stride = check_positive_int("stride", seq_len if stride is None else stride)
    if len(ids) < seq_len + 1:
        raise ValueError(f"ids must hold at least seq_len + 1 = {seq_len + 1} "
                         f"tokens, got {len(ids)}")
    windows = ids.unfold(0, seq_len + 1, stride)  # (N, seq_len + 1)
    return windows[:, :-1].clone(), windows[:, 1:].clone()  # (N, T), (N, T)


def nearest_tokens(embeddings: torch.Tensor, vocab: Vocab, token: str, k: int = 3,
                   exclude: Sequence[str] = (PAD, UNK)) -> list[tuple[str, float]]:
    """The ``k`` tokens whose embeddings have the highest cosine similarity
    with ``token``'s, as ``(token, similarity)`` pairs, most similar first.

    Args:
        embeddings: ``(len(vocab), d)``, row ``i`` for the token of id ``i``.
        exclude: tokens never returned (besides ``token`` itself).
    Raises:
        ValueError: if the shapes disagree or ``token`` is not in ``vocab``.
    """
    check_tensor("embeddings", embeddings, floating=True)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(vocab):
        raise ValueError(f"embeddings must have shape ({len(vocab)}, d), got "
                         f"{tuple(embeddings.shape)}")
    if token not in vocab:
        raise ValueError(f"token {token!r} is not in the vocabulary")
    E = torch.nn.functional.normalize(embeddings.detach(), dim=1)  # (V, d), unit rows
    sims = E @ E[vocab.stoi[token]]  # (V,): cosine similarities
    for t in (token, *exclude):
        if t in vocab:
            sims[vocab.stoi[t]] = -float("inf")
    top = torch.topk(sims, k)
    return [(vocab.itos[i], s) for i, s in zip(top.indices.tolist(),
                                               top.values.tolist())]


def pca_2d(E: torch.Tensor) -> torch.Tensor:
    """Project the rows of ``E`` ``(n, d)`` onto their first two principal
    components (centred, via ``torch.linalg.svd``). Returns ``(n, 2)``.

    The sign of each component is fixed (its largest entry is positive), so
    the picture does not flip between runs.
    """
    check_tensor("E", E, floating=True)
    check_ndim("E", E, (2,))
    Ec = E - E.mean(dim=0)  # (n, d)
    _, _, Vh = torch.linalg.svd(Ec, full_matrices=False)  # Vh: (min(n, d), d)
    P = Ec @ Vh[:2].T  # (n, 2)
    signs = torch.sign(P[P.abs().argmax(dim=0), torch.arange(2)])  # (2,)
    return P * signs


def draw_embedding(words: Sequence[str] = ("cat", "dog", "cake"), vocab_size: int = 8,
                   embed_dim: int = 3, seed: int = 0):
    """Diagram: vocabulary -> index -> one-hot vector -> learned embedding.

    Each of ``words`` gets an index, a one-hot column of length ``vocab_size``
    and a dense column of ``embed_dim`` numbers (random, for the picture).
    Returns the ``Figure``.
    """
    import matplotlib.patches as mpatches

    from introdl.figures import diagrams
    from introdl.figures.style import PALETTE

    n, cell = len(words), 0.42
    top = 1.2 * n + 0.4
    fig, ax = diagrams.new_diagram(6.4, 0.45 * (top + 1.2), xlim=(0, 12),
                                   ylim=(-0.2, top + 1.0))
    values = torch.randn(n, embed_dim, generator=torch.Generator().manual_seed(seed))
    x_hot, x_emb = 3.5, 9.4  # left edges of the one-hot and embedding cells
    x_hot_end = x_hot + vocab_size * cell
    for x, title in ((0.9, "vocabulary"), (2.6, "index"),
                     ((x_hot + x_hot_end) / 2, "one-hot"),
                     (x_emb + 0.75 * (embed_dim - 1) / 2, "embedding")):
        diagrams.caption(ax, (x, top + 0.6), title, fontsize=10)
    for k, word in enumerate(words):
        y, idx = top - 0.4 - 1.2 * k, k + 2
        diagrams.box(ax, (0.9, y), word, width=1.4, height=0.6, kind="input")
        diagrams.box(ax, (2.6, y), str(idx), width=0.6, height=0.6, kind="plain")
        diagrams.arrow(ax, (1.6, y), (2.3, y), r_start=0, r_end=0)
        diagrams.arrow(ax, (2.9, y), (x_hot - 0.05, y), r_start=0, r_end=0)
        for j in range(vocab_size):  # one-hot cells
            on = j == idx
            ax.add_patch(mpatches.Rectangle(
                (x_hot + j * cell, y - 0.19), cell - 0.04, 0.38, edgecolor="black",
                facecolor=PALETTE[0] if on else "white", linewidth=0.8))
            ax.text(x_hot + j * cell + 0.19, y, "1" if on else "0", ha="center",
                    va="center", fontsize=7, color="white" if on else "black")
        diagrams.arrow(ax, (x_hot_end + 0.1, y), (x_emb - 0.35, y), r_start=0,
                       r_end=0)
        ax.text((x_hot_end + x_emb) / 2 - 0.1, y + 0.3, r"$\times\, W$",
                ha="center", va="center", fontsize=9, color=PALETTE[1])
        for j, v in enumerate(values[k].tolist()):  # dense cells
            ax.text(x_emb + j * 0.75, y, f"{v:+.1f}", ha="center", va="center",
                    fontsize=8, bbox=dict(boxstyle="square,pad=0.25",
                                          facecolor="#D9F0E6", edgecolor="black"))
    diagrams.caption(ax, ((x_hot + x_hot_end) / 2, 0.1),
                     f"V = {vocab_size} numbers, one of them 1")
    diagrams.caption(ax, (x_emb + 0.75 * (embed_dim - 1) / 2, 0.1),
                     f"d = {embed_dim} learned numbers")
    return fig


def _label_points(ax, points, words, fontsize: float = 7):
    """Write each word beside its point, moving a label up or down (greedily)
    when it would overlap one already placed, so crowded clusters stay legible."""
    ax.figure.canvas.draw()  # fixes the data-to-pixel transform
    to_px = ax.transData.transform
    scale = ax.figure.dpi / 72  # pixels per point
    placed = []  # (x0, x1, y0, y1) of labels, in pixels
    for (x, y), word in sorted(zip(points, words), key=lambda p: -p[0][1]):
        px, py = to_px((x, y))
        w, h = 0.6 * fontsize * len(word) * scale, 1.1 * fontsize * scale
        for dy in (2, -10, 12, -20, 22, -30, 32, -40, 42):
            x0, y0 = px + 3 * scale, py + dy * scale
            if not any(x0 < b[1] and b[0] < x0 + w and y0 < b[3] and b[2] < y0 + h
                       for b in placed):
                break
        placed.append((x0, x0 + w, y0, y0 + h))
        ax.annotate(word, (x, y), xytext=(3, dy), textcoords="offset points",
                    fontsize=fontsize, arrowprops=None if abs(dy) < 12 else dict(
                        arrowstyle="-", color="#999999", linewidth=0.5))


def plot_embeddings_2d(points, words: Sequence[str],
                       groups: Sequence[str] | None = None, *, ax=None,
                       title: str | None = None):
    """Scatter 2-D points (e.g. :func:`pca_2d` of embeddings), each labelled
    with its word; points of the same group share a colour and a marker.

    Args:
        points: ``(n, 2)``; words: ``n`` labels; groups: ``n`` group names or None.
    Returns:
        The ``Figure``.
    """
    from introdl.figures.style import PALETTE, new_figure

    points = torch.as_tensor(points).detach()
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(words):
        raise ValueError(f"points must have shape ({len(words)}, 2), got "
                         f"{tuple(points.shape)}")
    fig, ax = new_figure(height=4.8) if ax is None else (ax.figure, ax)
    groups = list(groups) if groups is not None else ["word"] * len(words)
    markers = "osD^v<>ph*X"
    for k, group in enumerate(dict.fromkeys(groups)):
        idx = [i for i, g in enumerate(groups) if g == group]
        ax.scatter(points[idx, 0], points[idx, 1], s=28, marker=markers[k % 11],
                   color=PALETTE[k % len(PALETTE)], label=group, edgecolors="black",
                   linewidths=0.4)
    ax.set(xlabel="first principal component", ylabel="second principal component")
    if title:
        ax.set_title(title)
    if len(set(groups)) > 1:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    _label_points(ax, points.tolist(), words)
    return fig
