"""Byte-pair encoding (BPE): subword tokens learned from text (chapter "Subword
tokens").

Gage's compression algorithm (1994) replaces the most frequent pair of adjacent
symbols by a new symbol, again and again. Sennrich, Haddow and Birch (2016) used
it to build the vocabulary of a translation model from parts of words; GPT-2
(Radford et al., 2019) starts from the 256 possible bytes instead of characters,
so that every string has an encoding and nothing is ever unknown. This module is
byte-level BPE in that sense::

    merges = train_bpe(["the cat eats .", "the dog eats ."], num_merges=10)
    ids = encode("the cow eats .", merges)   # list of int token ids
    decode(ids, merges)                       # "the cow eats ."

Token ids 0-255 are the bytes; the ``k``-th merge ``(a, b)`` creates token id
``256 + k``, whose bytes are those of ``a`` followed by those of ``b``. Merges
never cross the start of a word (:func:`split_words`), as in GPT-2. Text is
turned into bytes with UTF-8 and the ``"surrogatepass"`` error handler, so
that ``decode(encode(s, merges), merges) == s`` for every Python string ``s``.
"""

import math
from collections.abc import Iterable, Sequence

import torch

from introdl.checks import check_positive_int

__all__ = ["split_words", "count_pairs", "merge_pair", "train_bpe", "vocabulary",
           "encode", "decode"]


def split_words(text: str) -> list[str]:
    """Split ``text`` before every space:
    ``"bob eats ."`` -> ``["bob", " eats", " ."]``.

    Joining the pieces gives ``text`` back. Raises ``TypeError`` if ``text``
    is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    first, *rest = text.split(" ")
    pieces = [first, *(" " + w for w in rest)]  # each space joins the word after it
    return [w for w in pieces if w]  # no empty piece (from "", or two spaces)


def count_pairs(words: dict[tuple[int, ...], int]) -> dict[tuple[int, int], int]:
    """How often each pair of adjacent tokens occurs in ``words``.

    ``words`` maps a word (a tuple of token ids) to how often it occurs.
    """
    counts = {}
    for word, n in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0) + n
    return counts


def merge_pair(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace each occurrence of ``pair`` in ``ids`` by ``new_id``, left to right:
    ``merge_pair([1, 1, 1], (1, 1), 9)`` -> ``[9, 1]``."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)  # the pair becomes one token
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_bpe(texts: Iterable[str], num_merges: int) -> list[tuple[int, int]]:
    """Learn up to ``num_merges`` merges from ``texts`` (an iterable of strings).

    Each round merges the most frequent pair of adjacent tokens; ties go to
    the pair with the smallest ids. Training stops early when every word is
    a single token.

    Returns:
        ``merges``: ``merges[k]`` is the pair ``(a, b)`` that became token ``256 + k``.
    Raises:
        TypeError: if ``texts`` is a single ``str`` or holds a non-string.
        ValueError: if ``num_merges < 0``.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of strings, got one str")
    check_positive_int("num_merges", num_merges, allow_zero=True)
    words = {}  # word as a tuple of byte ids -> count
    for text in texts:
        for word in split_words(text):
            key = tuple(word.encode("utf-8", "surrogatepass"))
            words[key] = words.get(key, 0) + 1
    merges = []
    for new_id in range(256, 256 + num_merges):
        counts = count_pairs(words)
        if not counts:
            break
        pair = max(sorted(counts), key=counts.get)  # ties: the smallest pair
        merges.append(pair)
        words = {tuple(merge_pair(w, pair, new_id)): n for w, n in words.items()}
    return merges


def vocabulary(merges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The bytes of every token: ``vocab[i]`` for ids ``0 .. 255 + len(merges)``.

    Raises ``ValueError`` if a merge uses an id that does not exist yet.
    """
    vocab = [bytes([i]) for i in range(256)]
    for a, b in merges:
        if not (0 <= a < len(vocab) and 0 <= b < len(vocab)):
            raise ValueError(f"merge {len(vocab) - 256} must join existing ids "
                             f"< {len(vocab)}, got {(a, b)}")
        vocab.append(vocab[a] + vocab[b])
    return vocab


def encode(text: str, merges: Sequence[tuple[int, int]]) -> list[int]:
    """Token ids of ``text``: the bytes of each word, merged in training order.

    Within a word, the pair of lowest merge rank is merged first, until no
    pair of the word is a merge; this gives the same tokens as applying the
    merges one after another. Raises ``TypeError`` if ``text`` is not a str.
    """
    vocabulary(merges)  # checks the merges
    rank = {tuple(pair): 256 + k for k, pair in enumerate(merges)}
    ids, cache = [], {}  # cache: word -> its ids, as words repeat
    for word in split_words(text):
        if word not in cache:
            w = list(word.encode("utf-8", "surrogatepass"))  # byte ids 0..255
            while len(w) > 1:
                pair = min(zip(w, w[1:]), key=lambda p: rank.get(p, math.inf))
                if pair not in rank:
                    break  # no pair of this word was ever merged
                w = merge_pair(w, pair, rank[pair])
            cache[word] = w
        ids.extend(cache[word])
    return ids


def decode(ids: Iterable[int] | torch.Tensor, merges: Sequence[tuple[int, int]]) -> str:
    """The text of token ``ids`` (ints, or a 1-d integer tensor).

    Raises:
        ValueError: if an id is not a token of the vocabulary, or if the bytes
            are not UTF-8 (``UnicodeDecodeError``, e.g. half of a character).
    """
    vocab = vocabulary(merges)
    ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
    bad = [i for i in ids if not (isinstance(i, int) and 0 <= i < len(vocab))]
    if bad:
        raise ValueError(f"ids must be ints in [0, {len(vocab)}), got {bad[:5]}")
    text_bytes = b"".join(vocab[i] for i in ids)
    return text_bytes.decode("utf-8", "surrogatepass")
