"""Experiments of the chapter "Predicting the next word"."""

import pytest
import torch

from introdl import corpus
from introdl.experiments.next_word import train_language_model
from introdl.text import Vocab, next_word_probabilities, tokenize


@pytest.mark.slow
def test_language_model_learns_the_grammar():
    tokens = tokenize(corpus.generate_text(300, seed=0))
    vocab = Vocab.build(tokens)
    model, history = train_language_model(vocab.encode(tokens), len(vocab),
                                          hidden_size=16, num_epochs=6, lr=0.02)
    assert history.val_loss[-1] < 0.6 * history.val_loss[0]
    top = next_word_probabilities(model, vocab, tokenize("alice eats the"), k=3)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1]
    assert sum(corpus.category_of(w) == "food" for w, _ in top) >= 2
    with pytest.raises(ValueError, match="prompt"):
        next_word_probabilities(model, vocab, [])


def test_training_is_seeded_and_leaves_the_global_rng_alone():
    ids = torch.arange(200) % 7
    before = torch.random.get_rng_state()
    _, a = train_language_model(ids, 7, hidden_size=4, num_epochs=1)
    assert torch.equal(torch.random.get_rng_state(), before)
    _, b = train_language_model(ids, 7, hidden_size=4, num_epochs=1)
    assert a.val_loss == b.val_loss


@pytest.mark.parametrize("ids, vocab_size, err, match", [
    (torch.arange(100), 50, ValueError, r"in \[0, vocab_size=50\)"),
    (torch.zeros(0, dtype=torch.long), 5, ValueError, "ids must be non-empty"),
    ([1, 2, 3], 5, TypeError, "ids must be a torch.Tensor"),
    (torch.zeros(10, dtype=torch.long), 5, ValueError, "ids must hold seq_len"),
])
def test_train_language_model_misuse(ids, vocab_size, err, match):
    with pytest.raises(err, match=match):
        train_language_model(ids, vocab_size, num_epochs=1)


@pytest.mark.slow
def test_scale_up_exercise_solution_learns_the_pronoun():
    """The (not executed) solution of the chapter's "Scaling up" exercise, run here:
    the bigger model puts nearly all probability on the right pronoun, and its
    validation loss ends about where the chapter's small model's does."""
    big = tokenize(corpus.generate_text(5000, seed=0))
    big_vocab = Vocab.build(big)
    big_model, big_history = train_language_model(
        big_vocab.encode(big), len(big_vocab), hidden_size=64, num_epochs=40, lr=0.01)
    for prompt, pronoun in (("bob walks to the park and", "he"),
                            ("emma walks to the park and", "she")):
        top = dict(next_word_probabilities(big_model, big_vocab, tokenize(prompt), k=2))
        assert top.get(pronoun, 0.0) > 0.9, (prompt, top)
    small = tokenize(corpus.generate_text(1500, seed=0))  # the chapter's run
    small_vocab = Vocab.build(small)
    _, history = train_language_model(small_vocab.encode(small), len(small_vocab),
                                      embed_dim=16, hidden_size=32, num_epochs=15,
                                      seed=0)
    assert abs(big_history.val_loss[-1] - history.val_loss[-1]) < 0.15
