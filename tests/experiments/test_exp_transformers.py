"""Experiments of the chapter "Transformers"."""

import pytest
import torch

from introdl import text
from introdl.experiments.transformers import pronoun_attention, sentence_examples
from introdl.transformer import TinyGPT


def test_sentence_examples_shift_and_ignore_padding():
    vocab = text.Vocab.build(text.tokenize("bob eats the cake . alice is happy ."))
    X, Y = sentence_examples(["bob eats the cake .", "alice is happy ."], vocab)
    assert X.shape == Y.shape == (2, 4) and X.dtype == Y.dtype == torch.long
    assert vocab.decode(X[0]) == ["bob", "eats", "the", "cake"]
    assert vocab.decode(Y[0]) == ["eats", "the", "cake", "."]
    assert Y[1].tolist()[-1] == -100 and vocab.decode(Y[1][:3]) == ["is", "happy", "."]
    X2, Y2 = sentence_examples(iter(["bob eats the cake .", "alice is happy ."]), vocab)
    assert torch.equal(X, X2) and torch.equal(Y, Y2)  # any iterable of strings


def test_sentence_examples_misuse():
    vocab = text.Vocab.build(text.tokenize("bob eats ."))
    with pytest.raises(TypeError, match="sentences must be a list of strings"):
        sentence_examples("bob eats .", vocab)
    no_pad = text.Vocab(["<unk>", "bob"], pad_token=None)
    with pytest.raises(ValueError, match="padding token"):
        sentence_examples(["bob"], no_pad)


def test_attention_summaries_pick_out_the_right_heads():
    vocab = text.Vocab.build(text.tokenize("bob walks and he runs . the cat . she"))
    X, _ = sentence_examples(["bob walks and he runs .", "the cat ."], vocab)
    model = TinyGPT(len(vocab), context_len=X.shape[1], d_model=8, num_heads=2,
                    num_layers=1)
    with torch.no_grad():
        _, (w,) = model(X, return_weights=True)
    to_name = pronoun_attention(model, X, vocab)
    assert to_name.shape == (1, 2)
    torch.testing.assert_close(to_name[0], w[0, :, 2, 0])  # row 0: "and" at position 2
    with pytest.raises(ValueError, match="and she"):
        pronoun_attention(model, X[1:], vocab)
