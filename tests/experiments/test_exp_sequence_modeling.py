"""Experiments of the chapter "Deep sequence modeling"."""

import math

import pytest
import torch

from introdl.experiments.sequence_modeling import (
    EchoRun,
    parameter_counts,
    pronoun_statistics,
    train_echo_models,
)
from introdl.rnn import PerStepMLP, RNNTagger

MODELS = {"feed-forward per step": PerStepMLP, "recurrent": RNNTagger}


@pytest.mark.slow
def test_echo_demo_tells_the_story():
    results = train_echo_models(MODELS, num_epochs=6, n_train=192)
    naive, rnn = results["feed-forward per step"], results["recurrent"]
    assert isinstance(rnn, EchoRun) and rnn.val_accuracy == rnn.history.val_metric[-1]
    assert naive.val_accuracy < 0.35  # chance is 0.25
    assert rnn.val_accuracy > 0.9
    again = train_echo_models(MODELS, num_epochs=6, n_train=192)
    assert again["recurrent"].history.val_loss == rnn.history.val_loss


def test_each_run_is_independent_and_the_global_rng_is_left_alone():
    before = torch.random.get_rng_state()
    alone = train_echo_models({"recurrent": RNNTagger}, num_epochs=2, n_train=64)
    assert torch.equal(torch.random.get_rng_state(), before)
    both = train_echo_models(MODELS, num_epochs=2, n_train=64)
    assert both["recurrent"].history.val_loss == alone["recurrent"].history.val_loss


def test_parameter_counts():
    counts = parameter_counts([1, 10], input_size=3, hidden_size=4)
    assert counts["feed-forward on the whole sequence"] == [16, 124]
    assert counts["recurrent"] == [4 * (3 + 4 + 2)] * 2
    assert parameter_counts(iter([2]), 3, 4)["recurrent"] == [36]
    with pytest.raises(ValueError, match="T must be > 0"):
        parameter_counts([0], 3, 4)
    with pytest.raises(TypeError, match="hidden_size must be an int"):
        parameter_counts([1], 3, None)


def test_pronoun_statistics():
    stats = pronoun_statistics(["alice goes to the park and she eats the cake .",
                                "bob goes to the park and he eats the cake .",
                                "carol is happy ."])
    assert list(stats.values()) == [0.5, 1.0, 0.0]
    with pytest.raises(ValueError, match="no"):
        pronoun_statistics(["carol is happy ."])
    with pytest.raises(TypeError, match="sentences must be a collection"):
        pronoun_statistics("alice goes to the park and she eats .")
    only_women = pronoun_statistics(iter(["emma runs to the park and she eats ."]))
    assert only_women["sentence starts with a woman's name"] == 1.0
    assert math.isnan(only_women["sentence starts with a man's name"])  # no such case


def test_the_chapters_descriptions_of_the_corpus_hold():
    """The alt texts of the chapter describe its corpus figures in words."""
    from collections import Counter

    from introdl import corpus
    from introdl.text import tokenize

    sentences = corpus.generate_sentences(2000, seed=0)  # the chapter's corpus
    counts = Counter(len(tokenize(s)) for s in sentences)
    lengths = sorted(counts)
    gaps = [(a, b) for a, b in zip(lengths, lengths[1:]) if b - a > 1]
    assert len(gaps) == 1  # "a smaller, separate group, with a gap before it"
    short = [n for n in lengths if n <= gaps[0][0]]
    long = [n for n in lengths if n >= gaps[0][1]]
    assert sum(counts[n] for n in short) > 2 * sum(counts[n] for n in long)
    assert 1.6 < (sum(long) / len(long)) / (sum(short) / len(short)) < 2.4  # "twice"
    p_she = list(pronoun_statistics(sentences).values())
    assert 0.4 < p_she[0] < 0.6  # "about one half" given only "and"
    assert sorted(p_she[1:]) == [0.0, 1.0]  # the name decides


@pytest.mark.slow
def test_the_chapters_echo_run_reaches_perfect_accuracy():
    results = train_echo_models(MODELS, delay=2, hidden_size=16, num_epochs=12, seed=0)
    assert results["recurrent"].val_accuracy > 0.99  # "(nearly) perfect accuracy"
