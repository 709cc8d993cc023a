"""Tests of the sequence models, their losses, demos and figures."""

import pytest
import torch

from introdl import corpus
from introdl.sequences import (PerStepMLP, RNNLanguageModel, RNNTagger,
                               draw_naive_sequence_model, draw_rnn_loop,
                               draw_rnn_unrolled, first_input_influence,
                               next_word_probabilities,
                               parameter_counts, plot_accuracy_curves,
                               plot_hidden_states, plot_length_histogram,
                               plot_order_demo, plot_parameter_counts,
                               plot_pronoun_statistics, pronoun_statistics,
                               sequence_accuracy, sequence_cross_entropy,
                               train_echo_models, train_language_model)
from introdl.losses import IGNORE_INDEX
from introdl.text import Vocab, tokenize


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run faster on one thread (and do not fight other processes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_models_output_one_score_vector_per_step():
    x = torch.randn(3, 7, 4)
    assert PerStepMLP(4, 8, 5)(x).shape == (3, 7, 5)
    assert RNNTagger(4, 8, 5)(x).shape == (3, 7, 5)
    ids = torch.randint(0, 11, (3, 7))
    assert RNNLanguageModel(11, 6, 8)(ids).shape == (3, 7, 11)


def test_per_step_model_ignores_the_past_but_rnn_does_not():
    x = torch.randn(1, 5, 3)
    x2 = x.clone()
    x2[0, 0] += 1.0  # change only the first step
    mlp, rnn = PerStepMLP(3, 8, 2), RNNTagger(3, 8, 2)
    torch.testing.assert_close(mlp(x)[0, 1:], mlp(x2)[0, 1:])
    assert not torch.allclose(rnn(x)[0, -1], rnn(x2)[0, -1])


def test_language_model_is_causal():
    model = RNNLanguageModel(10, 4, 8)
    ids = torch.randint(0, 10, (2, 6))
    ids2 = ids.clone()
    ids2[:, 4:] = (ids2[:, 4:] + 1) % 10
    torch.testing.assert_close(model(ids)[:, :4], model(ids2)[:, :4])


def test_loss_and_accuracy_skip_ignored_steps():
    logits = torch.tensor([[[5.0, 0.0], [0.0, 5.0], [9.0, 0.0]]])  # (1, 3, 2)
    y = torch.tensor([[0, 0, IGNORE_INDEX]])
    assert sequence_accuracy(logits, y) == 0.5
    expected = torch.nn.functional.cross_entropy(logits[0, :2], y[0, :2])
    torch.testing.assert_close(sequence_cross_entropy(logits, y), expected)
    with pytest.raises(ValueError, match=r"logits must be \(B, T, C\)"):
        sequence_cross_entropy(logits[0], y)


def test_echo_demo_tells_the_story():
    results = train_echo_models(num_epochs=6, n_train=192)
    naive, rnn = results["feed-forward per step"], results["recurrent"]
    assert naive["val_accuracy"] < 0.35  # chance is 0.25
    assert rnn["val_accuracy"] > 0.9
    again = train_echo_models(num_epochs=6, n_train=192)
    assert again["recurrent"]["history"].val_loss == rnn["history"].val_loss


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


def test_first_input_influence():
    from introdl.rnn import RNN
    X = torch.nn.functional.one_hot(torch.randint(0, 4, (6, 5)), 4).float()
    d = first_input_influence(RNN(4, 3), X)
    assert d.shape == (5,) and (d > 0).all()
    identity_like = PerStepMLP(4, 3, 2)  # no memory: only step 0 differs
    d = first_input_influence(lambda x: (identity_like(x),), X)
    assert d[0] > 0 and torch.all(d[1:] == 0)


def test_parameter_counts():
    counts = parameter_counts([1, 10], input_size=3, hidden_size=4)
    assert counts["feed-forward on the whole sequence"] == [16, 124]
    assert counts["recurrent"] == [4 * (3 + 4 + 2)] * 2


def test_pronoun_statistics():
    stats = pronoun_statistics(["alice goes to the park and she eats the cake .",
                                "bob goes to the park and he eats the cake .",
                                "carol is happy ."])
    assert list(stats.values()) == [0.5, 1.0, 0.0]
    with pytest.raises(ValueError, match="no"):
        pronoun_statistics(["carol is happy ."])


def test_figures():
    for fig, must in ((draw_naive_sequence_model(3), {"$x_0$", "$x_2$"}),
                      (draw_rnn_loop(), {"$x_t$", "$W_{hh}$"}),
                      (draw_rnn_unrolled(3), {"$h_0$", "$h_3$", "$L_3$"})):
        assert must <= {t.get_text() for t in fig.axes[0].texts}
    fig = plot_hidden_states(torch.rand(5, 3) * 2 - 1, list("abcde"))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list("abcde")
    with pytest.raises(ValueError, match="step_labels must have 5"):
        plot_hidden_states(torch.rand(5, 3), list("abc"))


def test_plots():
    from introdl.training import History
    results = {"a": {"history": History(val_metric=[0.2, 0.3])},
               "b": {"history": History(val_metric=[0.5, 1.0])}}
    fig = plot_accuracy_curves(results, chance=0.25)
    assert [line.get_label() for line in fig.axes[0].lines][:2] == ["a", "b"]
    fig = plot_length_histogram([4, 4, 6])
    assert [p.get_height() for p in fig.axes[0].patches] == [2, 1]
    with pytest.raises(ValueError, match="lengths"):
        plot_length_histogram([])
    fig = plot_pronoun_statistics({"x": 0.5, "y": 1.0, "z": 0.0})
    assert {t.get_text() for t in fig.axes[0].texts} == {"50%", "100%", "0%"}
    fig = plot_order_demo(torch.ones(2, 3), torch.zeros(2, 4), ["s1", "s2"],
                          ["a", "b", "c"])
    assert len(fig.axes) == 2
    fig = plot_parameter_counts([1, 10], parameter_counts([1, 10], 3, 4))
    assert fig.axes[0].get_xscale() == fig.axes[0].get_yscale() == "log"


@pytest.mark.slow
def test_scale_up_exercise_solution_learns_the_pronoun():
    """The (not executed) solution of the chapter's "Scaling up" exercise, run here:
    the bigger model puts most probability on the right pronoun."""
    from introdl import corpus
    from introdl.sequences import next_word_probabilities, train_language_model
    from introdl.text import Vocab, tokenize

    big = tokenize(corpus.generate_text(5000, seed=0))
    big_vocab = Vocab.build(big)
    big_model, _ = train_language_model(
        big_vocab.encode(big), len(big_vocab), hidden_size=64, num_epochs=40, lr=0.01)
    for prompt, pronoun in (("bob walks to the park and", "he"),
                            ("emma walks to the park and", "she")):
        top = dict(next_word_probabilities(big_model, big_vocab, tokenize(prompt), k=2))
        assert top.get(pronoun, 0.0) > 0.8, (prompt, top)
