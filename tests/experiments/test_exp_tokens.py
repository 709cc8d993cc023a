"""Experiments of the chapter "Subword tokens"."""

import pytest

from introdl.bpe import count_pairs, split_words, train_bpe
from introdl.corpus import generate_sentences
from introdl.experiments.tokens import (
    SPACE,
    first_merges,
    segmentations,
    token_strings,
    vocab_curve,
)


@pytest.fixture(scope="module")
def data():
    train = generate_sentences(400, seed=0)
    test = generate_sentences(100, seed=1)
    return train, test, train_bpe(train, 1000)


def test_token_strings_show_spaces_and_half_characters():
    assert token_strings([ord(" "), ord("a")], []) == [SPACE, "a"]
    assert token_strings(list("é".encode()), []) == ["\ufffd", "\ufffd"]


def test_first_merges_counts_are_the_maximal_counts(data):
    train, _, merges = data
    rows = first_merges(train, merges, k=5)
    assert [r.rank for r in rows] == list(range(5))
    assert rows[0].left + rows[0].right == rows[0].token
    words = {}  # the first merge is the most frequent pair of the raw bytes
    for text in train:
        for w in split_words(text):
            key = tuple(w.encode())
            words[key] = words.get(key, 0) + 1
    assert rows[0].count == max(count_pairs(words).values())
    assert all(r.count > 0 for r in rows)


def test_vocab_curve_ends_at_the_words(data):
    train, test, merges = data
    curve = vocab_curve(train, test, merges, num_merges=[0, 10, len(merges)])
    assert curve.vocab_size == [256, 266, 256 + len(merges)]
    # more merges, shorter sequences; with every merge, one token per word
    assert curve.tokens_per_sentence[0] > curve.tokens_per_sentence[1] > \
        curve.tokens_per_sentence[2]
    assert curve.tokens_per_sentence[2] == pytest.approx(curve.words_per_sentence)
    assert curve.used_tokens[0] == len(set(" ".join(test)))  # one byte per character
    assert curve.unknown_rate == 0.0  # same grammar: every word was seen


def test_vocab_curve_rejects_too_many_merges(data):
    train, test, merges = data
    with pytest.raises(ValueError, match="num_merges"):
        vocab_curve(train, test, merges, num_merges=[len(merges) + 1])


def test_segmentations_mark_unknown_words(data):
    train, _, merges = data
    seg = segmentations("the zebra eats .", train, merges, num_merges=(0, 5))
    assert seg.words == ["the", "zebra", "eats", "."]
    assert seg.word_tokens == ["the", "<unk>", "eats", "."]
    assert [label for label, _ in seg.rows] == ["0 merges", "5 merges",
                                                f"all {len(merges)} merges"]
    for _, tokens in seg.rows:
        assert "".join(tokens).replace(SPACE, " ") == "the zebra eats ."
    assert len(seg.rows[0][1]) == len("the zebra eats .")
    with pytest.raises(ValueError, match="num_merges"):
        segmentations("a", train, merges, num_merges=(-1,))


def test_first_merges_misuse(data):
    train, _, merges = data
    with pytest.raises(TypeError):
        first_merges("one string", merges)
    with pytest.raises(ValueError):
        first_merges(train, merges, k=0)
