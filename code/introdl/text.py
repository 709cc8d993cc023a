"""Turning text into tensors: tokens, a vocabulary, one-hot vectors, batches.

The pipeline of the chapter "Predicting the next word" and of every later
chapter that models language::

    tokens = tokenize(text)                  # ["bob", "eats", "the", "cake", "."]
    vocab = Vocab.build(tokens)              # token <-> integer id
    ids = vocab.encode(tokens)               # LongTensor (n,)
    X, Y = lm_windows(ids, seq_len=16)       # (N, 16) inputs, (N, 16) next tokens
    x = one_hot(ids, len(vocab))             # (n, V) float, or use an embedding

Also here: what a trained language model predicts next
(:func:`next_word_probabilities`), and tools to look at learned embeddings
(:func:`nearest_tokens`, :func:`pca_2d`). The book's text is
:mod:`introdl.corpus`.
"""

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from introdl.checks import check_ndim, check_positive_int, check_tensor
from introdl.training import eval_mode

__all__ = ["PAD", "UNK", "tokenize", "detokenize", "Vocab", "one_hot", "bag_of_words",
           "pad_batch", "lm_windows", "next_word_probabilities", "nearest_tokens",
           "pca_2d"]


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-case word tokens; punctuation marks are tokens
    of their own: ``"Bob's cat, asleep."`` -> ``["bob's", "cat", ",", "asleep",
    "."]``. Raises TypeError if ``text`` is not a string."""
    import re

    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    word = r"[a-z0-9]+(?:'[a-z]+)?"  # letters and digits, with an ending such as 's
    mark = r"[^\sa-z0-9]"  # or any other single character that is not a space
    return re.findall(f"{word}|{mark}", text.lower())


def detokenize(tokens: Iterable[str]) -> str:
    """Join tokens with spaces, without a space before ``. , ! ? ; :``.
    Raises TypeError if ``tokens`` is a single string."""
    if isinstance(tokens, str):
        raise TypeError("tokens must be a sequence of tokens, got a str")
    text = " ".join(tokens)
    for mark in ".,!?;:":
        text = text.replace(" " + mark, mark)
    return text


class Vocab:
    """A vocabulary: the known tokens ``itos`` ("index to string", in id order)
    and the id of each, ``stoi``. A token not in the vocabulary encodes to the
    id of ``unk_token``; ``pad_token`` (or None) fills up short sequences.

    Raises ValueError if ``itos`` repeats a token or lacks a special token.
    """

    PAD = "<pad>"  # padding: id 0 in a vocabulary built with the defaults
    UNK = "<unk>"  # every token not in the vocabulary: id 1 by default

    def __init__(self, itos: Iterable[str], unk_token: str = "<unk>",
                 pad_token: str | None = "<pad>"):
        self.itos = list(itos)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dupes = sorted({t for i, t in enumerate(self.itos) if self.stoi[t] != i})
            raise ValueError(f"itos must not repeat tokens, got duplicates {dupes}")
        for name, token in (("unk_token", unk_token), ("pad_token", pad_token)):
            if token not in self.stoi and (name, token) != ("pad_token", None):
                raise ValueError(f"{name} {token!r} must be in itos")
        self.unk_token, self.pad_token = unk_token, pad_token

    @classmethod
    def build(cls, tokens: Iterable[str], min_freq: int = 1,
              specials: Sequence[str] = ("<pad>", "<unk>")) -> "Vocab":
        """The tokens seen at least ``min_freq`` times: first the ``specials``
        (``<pad>`` = 0, ``<unk>`` = 1), then from most to least frequent, ties in
        alphabetical order. Raises TypeError for a str (tokenize it first),
        ValueError if ``specials`` lacks ``<unk>``."""
        check_positive_int("min_freq", min_freq)
        if isinstance(tokens, str):
            raise TypeError("tokens must be a sequence of tokens, got a str: "
                            "use tokenize(text) first")
        if cls.UNK not in specials:
            raise ValueError(f"specials must include {cls.UNK!r}, got {specials!r}")
        counts = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        kept = sorted((t for t, c in counts.items() if c >= min_freq and
                       t not in specials), key=lambda t: (-counts[t], t))
        pad = cls.PAD if cls.PAD in specials else None
        return cls([*specials, *kept], unk_token=cls.UNK, pad_token=pad)

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

    def encode(self, tokens: Iterable[str]) -> torch.Tensor:
        """Ids of ``tokens``, a LongTensor ``(n,)``; unknown tokens get ``unk_id``.
        Raises TypeError for a single str (tokenize it first)."""
        if isinstance(tokens, str):
            raise TypeError("tokens must be tokens, not a str: use tokenize(text)")
        unk = self.unk_id
        ids = [self.stoi.get(t, unk) for t in tokens]  # unknown words map to <unk>
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids) -> list[str]:
        """Tokens of ``ids``, a 1-d tensor or a sequence of ints. Raises
        ValueError for an id that is not an int in ``[0, len(self))``."""
        if isinstance(ids, torch.Tensor):
            check_ndim("ids", ids, (1,))
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int)
               or not 0 <= i < len(self)]
        if bad:
            raise ValueError(f"ids must be ints in [0, {len(self)}), got {bad[:5]}")
        return [self.itos[i] for i in ids]


#: The padding token, id 0 in a vocabulary built with the defaults.
PAD = Vocab.PAD
#: The unknown token, for every token not in the vocabulary; id 1 by default.
UNK = Vocab.UNK


def one_hot(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    """One-hot vectors: ``out[..., k] = 1.0`` where ``ids[...] == k``, else 0.

    ``ids``: a tensor ``(...)`` of whole numbers in ``[0, num_classes)``. Returns
    float32 ``(..., num_classes)`` on the device of ``ids``. Raises ValueError for
    an id that is not one of ``0 .. num_classes - 1``.
    """
    V = check_positive_int("num_classes", num_classes)
    hot = check_tensor("ids", ids)[..., None] == torch.arange(V, device=ids.device)
    found = hot.any(dim=-1)  # (...): False where an id equals no k
    if not found.all():
        raise ValueError(f"ids must lie in [0, {V}), got {ids[~found][0].item()}")
    return hot.float()  # (..., V): 1.0 where ids[...] == k


def bag_of_words(ids: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Count of each token id: the sum of the one-hot vectors over the last
    axis of ``ids`` ``(..., T)``. Returns float32 ``(..., num_classes)``; the
    order of the tokens is lost. Raises ValueError for a 0-d ``ids``."""
    if check_tensor("ids", ids).ndim == 0:
        raise ValueError("ids must have a time axis (..., T), got a 0-d tensor")
    return one_hot(ids, num_classes).sum(dim=-2)  # (..., T, V) -> (..., V)


def pad_batch(sequences: Iterable[torch.Tensor], pad_id: int = 0):
    """Stack 1-d id tensors of different lengths into one padded batch.

    Returns ``(batch, lengths)``: a LongTensor ``(B, T_max)`` whose row ``b``
    holds ``sequences[b]`` followed by ``pad_id``, and ``lengths`` ``(B,)``.
    Raises ValueError if ``sequences`` is empty or holds a tensor that is not
    1-d, TypeError for a tensor that does not hold integers.
    """
    sequences = list(sequences)
    check_positive_int("pad_id", pad_id, allow_zero=True)
    if len(sequences) == 0:
        raise ValueError("sequences must hold at least one sequence")
    for i, s in enumerate(sequences):
        check_ndim(f"sequences[{i}]", check_tensor(f"sequences[{i}]", s), (1,))
        if s.is_floating_point() or s.dtype == torch.bool:
            raise TypeError(f"sequences[{i}] must hold integer ids, got {s.dtype}")
    lengths = torch.tensor([len(s) for s in sequences])  # (B,)
    batch = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long,
                       device=sequences[0].device)
    for i, s in enumerate(sequences):
        batch[i, :len(s)] = s
    return batch, lengths


def lm_windows(ids: torch.Tensor, seq_len: int, stride: int | None = None):
    """Cut a token stream ``ids (n,)`` into language-modelling examples.

    Window ``i`` starts at token ``i * stride`` (default ``seq_len``: no
    overlap): its input is ``seq_len`` tokens, its target the same window
    shifted by one, so ``Y[i, t]`` is the token after ``X[i, t]``. Returns
    ``(X, Y)``, ``(N, seq_len)`` each, ``N = (n - 1 - seq_len) // stride + 1``.
    Raises ValueError if ``ids`` is not 1-d or too short for one window.
    """
    check_ndim("ids", check_tensor("ids", ids), (1,))
    size = check_positive_int("seq_len", seq_len) + 1  # a window and the next token
    if len(ids) < size:
        raise ValueError(f"ids must hold seq_len + 1 = {size} tokens, got {len(ids)}")
    stride = check_positive_int("stride", seq_len if stride is None else stride)
    windows = ids.unfold(0, size, stride)  # (N, seq_len + 1)
    return windows[:, :-1].clone(), windows[:, 1:].clone()  # (N, T), (N, T)


@torch.no_grad()
def next_word_probabilities(model: nn.Module, vocab: Vocab, prompt: Sequence[str],
                            k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` most probable next tokens after ``prompt`` (a list of tokens), as
    ``(token, probability)`` pairs, most probable first. ``model`` maps ids
    ``(1, T)`` to logits ``(1, T, len(vocab))``. Raises ValueError for an empty
    ``prompt`` or ``k`` outside ``[1, len(vocab)]``."""
    ids = vocab.encode(prompt)[None]  # (1, T)
    if not 1 <= check_positive_int("k", k) <= len(vocab) or ids.numel() == 0:
        raise ValueError(f"need 1 <= k <= {len(vocab)} and a prompt of at least one "
                         f"token, got k={k} and {ids.numel()} tokens")
    device = next(model.parameters()).device  # run the prompt where the model is
    with eval_mode(model):  # e.g. no dropout; the mode is restored afterwards
        logits = model(ids.to(device))[0, -1]  # (V,): scores after the last token
    top = torch.topk(torch.softmax(logits, dim=-1), k)
    return [(vocab.itos[i], p) for i, p in zip(top.indices.tolist(),
                                               top.values.tolist())]


def nearest_tokens(embeddings: torch.Tensor, vocab: Vocab, token: str, k: int = 3,
                   exclude: Iterable[str] = (PAD, UNK)) -> list[tuple[str, float]]:
    """The ``k`` tokens whose embeddings have the highest cosine similarity
    with ``token``'s, as ``(token, similarity)`` pairs, most similar first.

    Args:
        embeddings: ``(len(vocab), d)``, row ``i`` for the token of id ``i``.
        exclude: tokens never returned (besides ``token`` itself).
    Raises:
        ValueError: if the shapes disagree, ``token`` is not in ``vocab`` or
            fewer than ``k`` tokens are left to choose from.
        TypeError: if ``exclude`` is a single string.
    """
    check_tensor("embeddings", embeddings, floating=True)
    check_positive_int("k", k)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(vocab):
        raise ValueError(f"embeddings must have shape ({len(vocab)}, d), got "
                         f"{tuple(embeddings.shape)}")
    if token not in vocab:
        raise ValueError(f"token {token!r} is not in the vocabulary")
    if isinstance(exclude, str):
        raise TypeError(f"exclude must be a collection of tokens, got the str "
                        f"{exclude!r}")
    E = torch.nn.functional.normalize(embeddings.detach(), dim=1)  # (V, d), unit rows
    sims = E @ E[vocab.stoi[token]]  # (V,): cosine similarities
    for t in (token, *exclude):
        if t in vocab:
            sims[vocab.stoi[t]] = -float("inf")
    if k > int(sims.isfinite().sum()):
        raise ValueError(f"k must be at most {int(sims.isfinite().sum())}, the "
                         f"tokens left to choose from, got {k}")
    top = torch.topk(sims, k)
    return [(vocab.itos[i], s) for i, s in zip(top.indices.tolist(),
                                               top.values.tolist())]


def pca_2d(E: torch.Tensor) -> torch.Tensor:
    """Project the rows of ``E (n, d)`` onto their first two principal
    components (centred, via ``torch.linalg.svd``). Returns ``(n, 2)``; the sign
    of each component is fixed (its largest entry is positive), so the picture
    does not flip between runs. Raises ValueError unless ``E`` is a finite
    matrix with ``n, d >= 2``."""
    check_ndim("E", check_tensor("E", E, floating=True), (2,))
    if min(E.shape) < 2 or not E.isfinite().all():
        raise ValueError(f"E must be finite with n, d >= 2, got shape {tuple(E.shape)}")
    Ec = E - E.mean(dim=0)  # (n, d)
    _, _, Vh = torch.linalg.svd(Ec, full_matrices=False)  # Vh: (min(n, d), d)
    P = Ec @ Vh[:2].T  # (n, 2)
    signs = torch.sign(P[P.abs().argmax(dim=0), torch.arange(2, device=E.device)])
    return P * signs  # (n, 2)
