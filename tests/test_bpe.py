"""Byte-pair encoding: hand-checked merges, round trips, misuse."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.bpe import (
    count_pairs,
    decode,
    encode,
    merge_pair,
    split_words,
    train_bpe,
    vocabulary,
)
from introdl.corpus import generate_sentences


@pytest.fixture(scope="module")
def merges():
    return train_bpe(generate_sentences(300, seed=0), num_merges=60)


def test_split_words_keeps_every_character():
    assert split_words("bob eats .") == ["bob", " eats", " ."]
    assert split_words("  a  b ") == [" ", " a", " ", " b", " "]
    assert split_words("") == []


@given(st.text())
def test_split_words_joins_back(text):
    assert "".join(split_words(text)) == text


def test_merge_pair_left_to_right():
    assert merge_pair([1, 1, 1], (1, 1), 9) == [9, 1]
    assert merge_pair([1, 2, 3, 1, 2], (1, 2), 7) == [7, 3, 7]
    assert merge_pair([], (1, 2), 7) == []


def test_count_pairs_weights_by_word_count():
    assert count_pairs({(1, 2, 1, 2): 3, (2, 1): 1}) == {(1, 2): 6, (2, 1): 4}


def test_merge_order_on_a_hand_checked_example():
    # "aaab" twice and "ab" once: pairs (a,a) 4 times, (a,b) 3 times.
    a, b = ord("a"), ord("b")
    merges = train_bpe(["aaab aaab", "ab"], num_merges=10)
    # words: "aaab" x1, " aaab" x1, "ab" x1 (the space belongs to the next word)
    # round 1: (a,a) occurs 2 + 2 = 4 times, (a,b) 3 times -> aa = 256
    # words become [aa, a, b], [ , aa, a, b], [a, b]: (a,b) 3, (aa,a) 2 -> ab = 257
    # then [aa, ab] x2 (one with a space) -> (aa, ab) 2 times -> 258;
    # then (32, 258) once -> 259; then nothing is left to merge.
    assert merges == [(a, a), (a, b), (256, 257), (32, 258)]
    vocab = vocabulary(merges)
    assert [vocab[i] for i in range(256, 260)] == [b"aa", b"ab", b"aaab", b" aaab"]


def test_ties_go_to_the_smallest_pair():
    # "ba" and "ab" once each: (a,b) and (b,a) tie; (a,b) has the smaller ids
    merges = train_bpe(["ba", "ab"], num_merges=1)
    assert merges == [(ord("a"), ord("b"))]


def test_training_is_deterministic_and_prefixes_agree():
    texts = generate_sentences(200, seed=3)
    long = train_bpe(texts, 40)
    assert train_bpe(texts, 40) == long
    assert train_bpe(texts, 15) == long[:15]


def test_encode_reproduces_sequential_merging(merges):
    for word in ["eats", " eats", " the", "hungry", " library"]:
        ids = list(word.encode())
        for k, pair in enumerate(merges):
            ids = merge_pair(ids, pair, 256 + k)
        assert encode(word, merges) == ids


def test_known_words_become_few_tokens(merges):
    sentence = "bob eats the cake ."
    assert len(encode(sentence, merges)) < len(sentence.encode())
    assert len(encode(sentence, [])) == len(sentence.encode())


def test_stops_when_every_word_is_one_token():
    merges = train_bpe(["ab ab"], num_merges=100)
    assert merges == [(97, 98), (32, 256)]  # "ab", then " " + "ab"; nothing left
    assert len(encode("ab ab", merges)) == 2


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_any_text(merges, text):
    assert decode(encode(text, merges), merges) == text


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(), min_size=0, max_size=30))
def test_round_trip_with_surrogates_and_unicode(merges, text):
    text = text + "\ud800 caf\u00e9 \U0001f642"  # a lone surrogate, accents, emoji
    assert decode(encode(text, merges), merges) == text


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=8), st.text(max_size=20),
       st.integers(0, 30))
def test_round_trip_after_training_on_random_text(texts, text, num_merges):
    merges = train_bpe(texts, num_merges)
    assert len(merges) <= num_merges
    assert decode(encode(text, merges), merges) == text


def test_unseen_words_are_split_not_unknown(merges):
    ids = encode("zebras", merges)
    assert decode(ids, merges) == "zebras"
    assert all(0 <= i < 256 + len(merges) for i in ids)


def test_decode_accepts_a_tensor(merges):
    ids = encode("the dog .", merges)
    assert decode(torch.tensor(ids), merges) == "the dog ."


def test_misuse_num_merges():
    with pytest.raises(ValueError, match="num_merges"):
        train_bpe(["a b"], -1)
    with pytest.raises(TypeError, match="num_merges"):
        train_bpe(["a b"], 2.5)
    assert train_bpe(["a b"], 0) == []


@pytest.mark.parametrize("bad", [b"bytes", None, 3, ["a", "b"]])
def test_misuse_non_str_text(merges, bad):
    with pytest.raises(TypeError, match="text must be a str"):
        encode(bad, merges)


def test_misuse_train_on_one_string_or_non_strings():
    with pytest.raises(TypeError, match="iterable of strings"):
        train_bpe("the cat eats .", 5)
    with pytest.raises(TypeError, match="text must be a str"):
        train_bpe(["ok", 3], 5)
    with pytest.raises(TypeError, match="text must be a str"):
        train_bpe([b"bytes"], 5)


def test_misuse_decode_bad_ids(merges):
    with pytest.raises(ValueError, match="ids must be ints"):
        decode([0, 256 + len(merges)], merges)
    with pytest.raises(ValueError, match="ids must be ints"):
        decode([-1], merges)
    with pytest.raises(ValueError, match="ids must be ints"):
        decode([1.5], merges)


def test_decode_half_a_character_is_an_error(merges):
    ids = encode("\u00e9", merges)  # two bytes
    with pytest.raises(ValueError):  # UnicodeDecodeError is a ValueError
        decode(ids[:1], merges)


def test_misuse_bad_merges():
    with pytest.raises(ValueError, match="merge 0"):
        vocabulary([(0, 256)])  # id 256 does not exist before merge 0
    with pytest.raises(ValueError, match="merge 1"):
        encode("ab", [(97, 98), (300, 1)])
