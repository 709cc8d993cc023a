"""Tests of the text toolkit: tokens, vocabulary, one-hot, batching, PCA."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.text import (PAD, UNK, Vocab, bag_of_words, detokenize, draw_embedding,
                          lm_windows, nearest_tokens, one_hot, pad_batch, pca_2d,
                          plot_embeddings_2d, tokenize)


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
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="1-d"):
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
    with pytest.raises(TypeError, match="integer dtype"):
        one_hot(torch.tensor([1.0]), 4)
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
    with pytest.raises(ValueError, match="at least seq_len \\+ 1 = 5"):
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


def test_figures_have_labels():
    fig = draw_embedding(["cat", "dog"], vocab_size=5, embed_dim=2)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"cat", "dog", "vocabulary", "one-hot", "embedding"} <= texts
    fig = plot_embeddings_2d(torch.randn(3, 2), ["a", "b", "c"], ["x", "y", "x"])
    assert {t.get_text() for t in fig.axes[0].texts} == {"a", "b", "c"}
    with pytest.raises(ValueError, match="points must have shape"):
        plot_embeddings_2d(torch.randn(3, 2), ["a", "b"])
