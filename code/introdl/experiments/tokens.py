"""Experiments of the chapter "Subword tokens": byte-pair encoding on the book's corpus.

- :func:`first_merges`: the merges in the order they were learned, with counts;
- :func:`vocab_curve`: vocabulary size and sequence length against the number
  of merges, beside a word-level vocabulary;
- :func:`segmentations`: how a sentence with unseen words is split, by a
  word-level vocabulary (``<unk>``) and by BPE after more and more merges.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from introdl.bpe import count_pairs, encode, merge_pair, split_words, vocabulary
from introdl.checks import check_positive_int
from introdl.text import Vocab, tokenize

__all__ = ["SPACE", "token_strings", "MergeRow", "first_merges", "VocabCurve",
           "vocab_curve", "Segmentation", "segmentations"]

#: How a space is drawn inside a token (the "open box" sign).
SPACE = "\u2423"


def token_strings(ids: Sequence[int], merges: Sequence[tuple[int, int]],
                  space: str = SPACE) -> list[str]:
    """The text of each token of ``ids``, with spaces drawn as ``space``.

    A token that holds part of a multi-byte character shows as U+FFFD.
    """
    vocab = vocabulary(merges)
    return [vocab[i].decode("utf-8", "replace").replace(" ", space) for i in ids]


@dataclass
class MergeRow:
    """One learned merge: ``left + right -> token``, made ``count`` times."""

    rank: int
    left: str
    right: str
    token: str
    count: int


def first_merges(texts: Sequence[str], merges: Sequence[tuple[int, int]],
                 k: int = 12) -> list[MergeRow]:
    """The first ``k`` merges with the number of times each pair occurred in
    ``texts`` when it was merged (replaying :func:`introdl.bpe.train_bpe`)."""
    check_positive_int("k", k)
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, got one str")
    words = {}
    for word in (w for text in texts for w in split_words(text)):
        key = tuple(word.encode("utf-8", "surrogatepass"))
        words[key] = words.get(key, 0) + 1
    rows = []
    for rank, pair in enumerate(merges[:k]):
        count = count_pairs(words).get(tuple(pair), 0)
        left, right, token = token_strings([*pair, 256 + rank], merges)
        rows.append(MergeRow(rank, left, right, token, count))
        words = {tuple(merge_pair(w, tuple(pair), 256 + rank)): n
                 for w, n in words.items()}
    return rows


@dataclass
class VocabCurve:
    """Vocabulary and sequence length against the number of merges.

    ``vocab_size[i]`` is ``256 + num_merges[i]``; ``used_tokens[i]`` how many
    distinct tokens the held-out text uses; ``tokens_per_sentence[i]`` its
    mean length in tokens. The word-level numbers are for comparison.
    """

    num_merges: list[int]
    vocab_size: list[int]
    used_tokens: list[int]
    tokens_per_sentence: list[float]
    word_vocab_size: int
    words_per_sentence: float
    unknown_rate: float


def vocab_curve(train_texts: Sequence[str], test_texts: Sequence[str],
                merges: Sequence[tuple[int, int]],
                num_merges: Sequence[int] | None = None) -> VocabCurve:
    """Encode ``test_texts`` with the first ``m`` of ``merges`` for each ``m``.

    The first ``m`` merges of a run are exactly what training with
    ``num_merges=m`` learns, so one training run serves every ``m``. The
    word-level vocabulary is :class:`introdl.text.Vocab` built on the words of
    ``train_texts``; ``unknown_rate`` is the share of held-out words it maps
    to ``<unk>``.
    """
    if num_merges is None:
        num_merges = sorted({0, *range(0, len(merges), 10), len(merges)})
    bad = [m for m in num_merges if not 0 <= m <= len(merges)]
    if bad:
        raise ValueError(f"num_merges must lie in [0, {len(merges)}], got {bad}")
    text = " ".join(test_texts)
    n = len(test_texts)
    used, lengths = [], []
    for m in num_merges:
        ids = encode(text, merges[:m])
        used.append(len(set(ids)))
        lengths.append(len(ids) / n)
    vocab = Vocab.build(tokenize(" ".join(train_texts)))
    words = tokenize(text)
    unknown = sum(w not in vocab for w in words) / len(words)
    return VocabCurve(list(num_merges), [256 + m for m in num_merges], used, lengths,
                      len(vocab), len(words) / n, unknown)


@dataclass
class Segmentation:
    """How ``sentence`` is split. ``words`` are its word-level tokens and
    ``word_tokens`` what a word-level vocabulary keeps of them (``<unk>`` for
    an unknown word); ``rows`` pairs a label with BPE token strings."""

    sentence: str
    words: list[str]
    word_tokens: list[str]
    rows: list[tuple[str, list[str]]]


def segmentations(sentence: str, train_texts: Sequence[str],
                  merges: Sequence[tuple[int, int]],
                  num_merges: Sequence[int] = (0, 25, 100)) -> Segmentation:
    """Split ``sentence`` into word-level tokens (unknown words become
    ``<unk>``) and into BPE tokens after each of ``num_merges`` merges and
    after all of ``merges``."""
    vocab = Vocab.build(tokenize(" ".join(train_texts)))
    words = tokenize(sentence)
    rows = []
    for m in [*num_merges, len(merges)]:
        if not 0 <= m <= len(merges):
            raise ValueError(f"num_merges must lie in [0, {len(merges)}], got {m}")
        label = f"all {m} merges" if m == len(merges) else f"{m} merges"
        rows.append((label, token_strings(encode(sentence, merges[:m]), merges)))
    word_tokens = [w if w in vocab else vocab.unk_token for w in words]
    return Segmentation(sentence, words, word_tokens, rows)
