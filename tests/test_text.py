"""Tests of the text toolkit: tokens, vocabulary, one-hot, batching, next-word
probabilities, nearest tokens and PCA; and their misuse."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.rnn import RNNLanguageModel
from introdl.text import (
    PAD,
    UNK,
    Vocab,
    bag_of_words,
    detokenize,
    lm_windows,
    nearest_tokens,
    next_word_probabilities,
    one_hot,
    pad_batch,
    pca_2d,
    tokenize,
)
from introdl.training import eval_mode


def test_tokenize_splits_words_and_punctuation():
    assert tokenize("Bob's cat, asleep.") == ["bob's", "cat", ",", "asleep", "."]
    assert tokenize("  ") == []
    assert detokenize(["bob", "eats", ",", "then", "sleeps", "."]) == \
        "bob eats, then sleeps."
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(["bob"])


def test_build_orders_specials_then_frequency_then_alphabet():
    vocab = Vocab.build("b a c a b a .".split())
    assert vocab.itos == [PAD, UNK, "a", "b", ".", "c"]
    assert vocab.pad_id == 0 and vocab.unk_id == 1
    assert len(vocab) == 6 and "a" in vocab and "z" not in vocab
    assert Vocab.build("a b a".split(), min_freq=2).itos == [PAD, UNK, "a"]


def test_encode_decode_round_trip_and_unknown_tokens():
    vocab = Vocab.build(tokenize("the cat eats the cake ."))
    tokens = tokenize("the cake eats the cat .")
    ids = vocab.encode(tokens)
    assert ids.dtype == torch.long and ids.shape == (6,)
    assert vocab.decode(ids) == tokens
    assert vocab.decode(ids.tolist()) == tokens
    unknown = vocab.encode(["the", "zebra", "sings"])
    assert unknown.tolist() == [vocab.stoi["the"], vocab.unk_id, vocab.unk_id]
    assert vocab.decode(unknown) == ["the", UNK, UNK]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "cat", ".", "x1"]), min_size=1))
def test_round_trip_property(tokens):
    vocab = Vocab.build(tokens)
    assert vocab.decode(vocab.encode(tokens)) == tokens
    assert sorted(vocab.itos[2:]) == sorted(set(tokens))


def test_vocab_bad_input():
    vocab = Vocab.build(["a"])
    with pytest.raises(TypeError, match="use tokenize"):
        vocab.encode("a b")
    with pytest.raises(ValueError, match=r"ids must be ints in \[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="ids must have 1 dimension"):
        vocab.decode(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="duplicates"):
        Vocab([UNK, "a", "a"])
    with pytest.raises(ValueError, match="unk_token"):
        Vocab(["a", "b"])
    with pytest.raises(ValueError, match="specials must include"):
        Vocab.build(["a"], specials=(PAD,))
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(["a"], min_freq=0)


def test_vocab_without_padding_and_extra_specials():
    vocab = Vocab.build(["a", "b"], specials=(UNK, "<bos>"))
    assert vocab.pad_id is None and vocab.unk_id == 0 and vocab.stoi["<bos>"] == 1


def test_one_hot_matches_torch_and_is_float():
    ids = torch.tensor([[0, 3], [2, 2]])
    out = one_hot(ids, 5)
    assert out.shape == (2, 2, 5) and out.dtype == torch.float32
    torch.testing.assert_close(out, torch.nn.functional.one_hot(ids, 5).float())
    assert out.sum(-1).eq(1).all()


def test_one_hot_times_matrix_selects_rows():
    W = torch.randn(5, 3)
    ids = torch.tensor([4, 0, 4])
    torch.testing.assert_close(one_hot(ids, 5) @ W, W[ids])


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\)"):
        one_hot(torch.tensor([1, 4]), 4)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\)"):
        one_hot(torch.tensor([-1]), 4)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\), got 1.5"):
        one_hot(torch.tensor([1.5]), 4)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\), got nan"):
        one_hot(torch.tensor([math.nan]), 4)
    with pytest.raises(TypeError, match="ids must be a torch.Tensor"):
        one_hot([1], 4)


def test_bag_of_words_counts_and_forgets_order():
    a, b = torch.tensor([2, 3, 2]), torch.tensor([3, 2, 2])
    torch.testing.assert_close(bag_of_words(a, 4), torch.tensor([0.0, 0, 2, 1]))
    torch.testing.assert_close(bag_of_words(torch.stack([a, b]), 4),
                               bag_of_words(a, 4).expand(2, 4))


def test_nearest_tokens():
    vocab = Vocab.build(["cat", "dog", "cake"])
    E = torch.zeros(len(vocab), 2)
    E[vocab.stoi["cat"]] = torch.tensor([1.0, 0.1])
    E[vocab.stoi["dog"]] = torch.tensor([2.0, 0.0])
    E[vocab.stoi["cake"]] = torch.tensor([0.0, 1.0])
    top = nearest_tokens(E, vocab, "cat", k=2)
    assert [t for t, _ in top] == ["dog", "cake"]
    assert top[0][1] == pytest.approx(1 / 1.01 ** 0.5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        nearest_tokens(E, vocab, "cow")
    with pytest.raises(ValueError, match="embeddings must have shape"):
        nearest_tokens(E[:3], vocab, "cat")


def test_pad_batch():
    batch, lengths = pad_batch([torch.tensor([5, 6, 7]), torch.tensor([8])], pad_id=0)
    assert batch.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths.tolist() == [3, 1]
    with pytest.raises(ValueError, match="at least one"):
        pad_batch([])
    with pytest.raises(ValueError, match=r"sequences\[1\] must have 1 dimension"):
        pad_batch([torch.tensor([1]), torch.tensor([[1]])])


@pytest.mark.parametrize("n, seq_len, stride", [(10, 3, None), (10, 3, 1), (7, 6, 2),
                                                (100, 16, 5)])
def test_lm_windows_shapes_and_shift(n, seq_len, stride):
    ids = torch.arange(n)
    X, Y = lm_windows(ids, seq_len, stride)
    s = stride or seq_len
    assert X.shape == Y.shape == ((n - 1 - seq_len) // s + 1, seq_len)
    torch.testing.assert_close(Y, X + 1)  # each target is the next token
    assert X[:, 0].tolist() == list(range(0, s * len(X), s))


def test_lm_windows_bad_input():
    with pytest.raises(ValueError, match=r"seq_len \+ 1 = 5 tokens, got 4"):
        lm_windows(torch.arange(4), 4)
    with pytest.raises(ValueError, match="ids must have 1 dimension"):
        lm_windows(torch.zeros(3, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="stride must be > 0"):
        lm_windows(torch.arange(10), 2, stride=0)


def test_pca_2d_finds_the_main_directions():
    g = torch.Generator().manual_seed(0)
    E = torch.randn(50, 4, generator=g, dtype=torch.float64) * torch.tensor(
        [0.01, 5.0, 0.02, 1.0], dtype=torch.float64)
    P = pca_2d(E)
    assert P.shape == (50, 2)
    Ec = E - E.mean(0)
    torch.testing.assert_close(P[:, 0].abs(), Ec[:, 1].abs(), atol=0.1, rtol=0.05)
    torch.testing.assert_close(pca_2d(-E), P)  # signs are fixed
    torch.testing.assert_close(P.mean(0), torch.zeros(2, dtype=torch.float64))


def test_vocab_constants_are_the_class_attributes():
    assert (PAD, UNK) == (Vocab.PAD, Vocab.UNK) == ("<pad>", "<unk>")


def test_vocab_misuse():
    with pytest.raises(TypeError, match="use tokenize"):
        Vocab.build("alice eats")  # a str would be counted character by character
    with pytest.raises(TypeError, match="min_freq must be an int"):
        Vocab.build(["a"], min_freq=None)
    with pytest.raises(ValueError, match="unk_token None must be in itos"):
        Vocab([UNK, "a"], unk_token=None)
    with pytest.raises(ValueError, match="pad_token '<x>' must be in itos"):
        Vocab([UNK, "a"], pad_token="<x>")
    assert Vocab([UNK, "a"], pad_token=None).pad_id is None
    vocab = Vocab.build(["a", "b"])
    with pytest.raises(ValueError, match="ids must be ints"):
        vocab.decode([0.0, 1.0])
    with pytest.raises(ValueError, match="ids must be ints"):
        vocab.decode([[0, 1]])
    with pytest.raises(ValueError, match="ids must have 1 dimension"):
        vocab.decode(torch.tensor(1))
    with pytest.raises(ValueError, match="ids must be ints"):
        vocab.decode([-1])  # no wrap-around to the last token
    assert vocab.decode([]) == [] and vocab.encode([]).shape == (0,)


def test_vocab_accepts_generators_once():
    tokens = ["b", "a", "b"]
    vocab = Vocab.build(t for t in tokens)  # a generator is read exactly once
    assert vocab.itos == [PAD, UNK, "b", "a"]
    assert vocab.encode(iter(tokens)).tolist() == [2, 3, 2]
    assert vocab.decode(iter([2, 3])) == ["b", "a"]
    assert Vocab(iter([UNK, "x"]), pad_token=None).itos == [UNK, "x"]


def test_tokenize_and_detokenize_misuse():
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(None)
    with pytest.raises(TypeError, match="tokens must be a sequence of tokens"):
        detokenize("bob eats .")
    assert detokenize(t for t in ["a", "."]) == "a."
    assert tokenize("Über café!") == ["ü", "ber", "caf", "é", "!"]  # a-z words only


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_tokenize_property(text):
    """Tokens are lower case, hold no whitespace, and lose only whitespace."""
    tokens = tokenize(text)
    assert all(t and not any(c.isspace() for c in t) for t in tokens)
    assert "".join(tokens) == "".join(c for c in text.lower() if not c.isspace())


def test_one_hot_misuse_and_edge_cases():
    torch.testing.assert_close(one_hot(torch.tensor([2.0, 0.0]), 3),  # whole numbers
                               one_hot(torch.tensor([2, 0]), 3))
    torch.testing.assert_close(one_hot(torch.tensor([True, False]), 2),  # 1 and 0
                               one_hot(torch.tensor([1, 0]), 2))
    with pytest.raises(TypeError, match="num_classes must be an int"):
        one_hot(torch.tensor([1]), None)
    with pytest.raises(ValueError, match="num_classes must be > 0"):
        one_hot(torch.tensor([0]), 0)
    assert one_hot(torch.tensor(2), 4).tolist() == [0, 0, 1, 0]  # 0-d ids
    assert one_hot(torch.zeros(0, dtype=torch.long), 3).shape == (0, 3)
    assert one_hot(torch.tensor([1], dtype=torch.uint8), 3).tolist() == [[0, 1, 0]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a second device")
def test_one_hot_is_made_on_the_device_of_the_ids():
    ids = torch.tensor([0, 2], device="cuda")
    assert one_hot(ids, 3).device == ids.device


def test_bag_of_words_misuse():
    with pytest.raises(ValueError, match="ids must have a time axis"):
        bag_of_words(torch.tensor(1), 4)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\)"):
        bag_of_words(torch.tensor([[1, 7]]), 4)


def test_pad_batch_misuse_and_generators():
    batch, lengths = pad_batch(t for t in [torch.tensor([1, 2]), torch.tensor([3])])
    assert batch.tolist() == [[1, 2], [3, 0]] and lengths.tolist() == [2, 1]
    with pytest.raises(TypeError, match=r"sequences\[0\] must hold integer ids"):
        pad_batch([torch.tensor([1.5])])
    with pytest.raises(TypeError, match=r"sequences\[1\] must be a torch.Tensor"):
        pad_batch([torch.tensor([1]), [2, 3]])
    with pytest.raises(TypeError, match="pad_id must be an int"):
        pad_batch([torch.tensor([1])], pad_id=None)  # e.g. a vocabulary without <pad>
    assert pad_batch([torch.tensor([], dtype=torch.long)])[0].shape == (1, 0)


def test_lm_windows_misuse():
    with pytest.raises(TypeError, match="ids must be a torch.Tensor"):
        lm_windows([1, 2, 3], 1)
    with pytest.raises(ValueError, match="ids must have 1 dimension"):
        lm_windows(torch.tensor(3), 1)
    with pytest.raises(TypeError, match="seq_len must be an int"):
        lm_windows(torch.arange(10), None)
    with pytest.raises(TypeError, match="stride must be an int"):
        lm_windows(torch.arange(10), 2, stride=1.0)


def _lm(vocab, seed=0):
    torch.manual_seed(seed)
    return RNNLanguageModel(len(vocab), 4, 8)


def test_next_word_probabilities_are_the_softmax_of_the_last_step():
    vocab = Vocab.build(tokenize("alice eats the cake . bob eats the bread ."))
    model = _lm(vocab)
    prompt = tokenize("alice eats")
    top = next_word_probabilities(model, vocab, prompt, k=len(vocab))
    probs = torch.softmax(model(vocab.encode(prompt)[None])[0, -1], -1)
    assert [w for w, _ in top][0] == vocab.itos[int(probs.argmax())]
    assert sum(p for _, p in top) == pytest.approx(1.0)
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert next_word_probabilities(model, vocab, iter(prompt), k=2) == top[:2]


def test_next_word_probabilities_restores_the_mode_and_uses_eval_mode():
    vocab = Vocab.build(["a", "b"])
    model = torch.nn.Sequential(torch.nn.Embedding(len(vocab), len(vocab)),
                                torch.nn.Dropout(0.9))  # dropout: differs in training
    model.train()
    first = next_word_probabilities(model, vocab, ["a"], k=2)
    assert model.training  # restored
    assert next_word_probabilities(model, vocab, ["a"], k=2) == first  # no dropout
    with eval_mode(model):
        next_word_probabilities(model, vocab, ["a"], k=1)
        assert not model.training


@pytest.mark.parametrize("prompt, k, err, match", [
    ([], 3, ValueError, "a prompt of at least one token"),
    (["a"], 0, ValueError, "k must be > 0"),
    (["a"], 99, ValueError, "need 1 <= k <= 4"),
    (["a"], None, TypeError, "k must be an int"),
    ("a", 1, TypeError, "use tokenize"),
])
def test_next_word_probabilities_misuse(prompt, k, err, match):
    vocab = Vocab.build(["a", "b"])
    with pytest.raises(err, match=match):
        next_word_probabilities(_lm(vocab), vocab, prompt, k=k)


def test_nearest_tokens_misuse():
    vocab = Vocab.build(["cat", "dog"])
    E = torch.randn(len(vocab), 2)
    with pytest.raises(ValueError, match="k must be at most 1"):
        nearest_tokens(E, vocab, "cat", k=2)  # <pad>, <unk> and cat are excluded
    with pytest.raises(TypeError, match="exclude must be a collection of tokens"):
        nearest_tokens(E, vocab, "cat", exclude="dog")
    with pytest.raises(TypeError, match="embeddings must have a floating-point"):
        nearest_tokens(E.long(), vocab, "cat")
    assert nearest_tokens(E, vocab, "cat", k=2, exclude=iter(["dog"]))[0][0] in (
        PAD, UNK)


def test_pca_2d_misuse():
    with pytest.raises(ValueError, match="E must be finite with n, d >= 2"):
        pca_2d(torch.randn(1, 4))
    with pytest.raises(ValueError, match="E must be finite"):
        pca_2d(torch.tensor([[0.0, math.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="E must have 2 dimension"):
        pca_2d(torch.randn(5))
    with pytest.raises(TypeError, match="E must have a floating-point dtype"):
        pca_2d(torch.ones(3, 3, dtype=torch.long))
