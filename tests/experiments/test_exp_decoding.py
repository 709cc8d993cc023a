"""Experiments of the chapter "Decoding and evaluating a language model"."""

import math

import pytest
import torch

from introdl import corpus, text
from introdl.experiments.decoding import (
    complete,
    grammar_perplexity,
    heldout_perplexities,
    heldout_sentences,
    is_grammatical,
    next_token_logits,
    sampling_sweep,
    sentence_probability,
    train_language_models,
)
from introdl.transformer import TinyGPT

TOTAL = sum(w for _, w in corpus.TEMPLATES)  # 22


def test_heldout_sentences_are_new():
    train = corpus.generate_sentences(300, seed=0)
    held = heldout_sentences(train, 50, seed=1)
    assert len(held) == 50 and not set(held) & set(train)
    assert held == heldout_sentences(train, 50, seed=1)
    with pytest.raises(ValueError, match="new sentences"):
        # the 20 n draws of seed 1 are exactly the "training" sentences
        heldout_sentences(corpus.generate_sentences(200, seed=1), 10, seed=1)
    with pytest.raises(ValueError, match="n must be > 0"):
        heldout_sentences(train, 0)


def test_sentence_probability_by_hand():
    # "{person} eats the {food} ." has weight 3; 8 people, 6 foods
    assert sentence_probability("bob eats the cake .".split()) == pytest.approx(
        3 / TOTAL / 8 / 6)
    # "{person} likes {person} .": the second person differs from the first
    assert sentence_probability("bob likes emma .".split()) == pytest.approx(
        1 / TOTAL / 8 / 7)
    assert sentence_probability("bob likes bob .".split()) == 0
    # the pronoun agrees with the name: no choice, no factor
    good = "emma walks to the park and she eats the cake .".split()
    assert sentence_probability(good) == pytest.approx(2 / TOTAL / 8 / 4 / 6 / 6)
    assert sentence_probability(["emma"] + good[1:6] + ["he"] + good[7:]) == 0
    assert sentence_probability([]) == pytest.approx(1.0)


@pytest.mark.parametrize("prefix", ["", "bob", "the", "the cat", "in the morning",
                                    "alice walks to the park and",
                                    "bob sees the dog in the"])
def test_sentence_probability_is_a_distribution_over_continuations(prefix):
    tokens = prefix.split()
    vocab = {w for s in corpus.generate_sentences(2000, seed=0) for w in s.split()}
    total = sum(sentence_probability(tokens + [w]) for w in vocab)
    assert total == pytest.approx(sentence_probability(tokens))


def test_is_grammatical():
    for s in corpus.generate_sentences(300, seed=5):
        assert is_grammatical(s)
    for s in ("bob eats the cake", "bob eats the water .", "the cat eats .",
              "bob likes bob .", "emma walks to the park and he eats the cake .",
              "", "cake the eats bob ."):
        assert not is_grammatical(s), s
    assert is_grammatical("Bob eats the cake.")  # tokenized like the corpus


def test_grammar_perplexity_by_hand():
    # the definition: the product over tokens 2..n of P(token | the tokens before)
    s = ["bob eats the cake .", "the cat is happy ."]
    nll = 0.0
    for sentence in s:
        tokens = sentence.split()
        for t in range(1, len(tokens)):
            p = sentence_probability(tokens[:t + 1]) / sentence_probability(tokens[:t])
            nll -= math.log(p)
    assert grammar_perplexity(s) == pytest.approx(math.exp(nll / 8))  # 4 + 4 tokens
    assert 1 < grammar_perplexity(corpus.generate_sentences(200, seed=3)) < 4


def test_complete_and_sweep_with_an_untrained_model():
    vocab = text.Vocab.build(text.tokenize(corpus.generate_text(200, seed=0)))
    torch.manual_seed(0)
    model = TinyGPT(len(vocab), context_len=12, d_model=8, num_heads=2, num_layers=1)
    prompts = ["bob", "the", "alice"]
    greedy = complete(model, vocab, prompts, temperature=0)
    assert len(greedy) == 3 and all(g.startswith(p) for g, p in zip(greedy, prompts))
    assert complete(model, vocab, prompts, seed=1) == complete(model, vocab, prompts,
                                                                seed=1)
    for t in complete(model, vocab, prompts, seed=2, max_tokens=5):
        assert len(text.tokenize(t)) <= 6 and t.count(".") <= 1
    sweep = sampling_sweep(model, vocab, prompts,
                           {"g": dict(temperature=0), "t": dict(temperature=0.7),
                            "k": dict(top_k=3), "p": dict(top_p=0.5)})
    assert sweep.labels == ["g", "t", "k", "p"]
    assert sweep.families == ["greedy", "temperature", "top-k", "top-p"]
    assert sweep.values == [0, 0.7, 3, 0.5]
    assert all(0 <= v <= 1 for v in sweep.grammatical + sweep.distinct)
    logits = next_token_logits(model, vocab, "bob eats")
    assert logits.shape == (len(vocab),)


@pytest.mark.slow
def test_trained_models_approach_the_grammar():
    models = train_language_models(n_sentences=600, n_heldout=100, gpt_epochs=3,
                                   rnn_epochs=4, seed=0)
    ppl = heldout_perplexities(models)
    assert ppl.uniform == pytest.approx(len(models.vocab), rel=1e-5)
    assert ppl.grammar < ppl.gpt < ppl.unigram < ppl.uniform
    assert ppl.grammar < ppl.rnn < ppl.unigram
    assert ppl.gpt < 2 * ppl.grammar  # close to the floor after a short training
    starts = [s.split()[0] for s in models.heldout]
    sweep = sampling_sweep(models.gpt, models.vocab, starts,
                           {"greedy": dict(temperature=0), "hot": dict(temperature=3.0),
                            "nucleus": dict(top_p=0.8)})
    greedy, hot, nucleus = zip(sweep.grammatical, sweep.distinct)
    assert greedy[0] > 0.9 and greedy[1] <= 10 / len(starts)  # one per first word
    assert hot[0] < nucleus[0] and hot[1] > greedy[1]
