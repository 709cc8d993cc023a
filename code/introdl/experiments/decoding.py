"""Experiments of the chapter "Decoding and evaluating a language model".

Two language models of the book learn the corpus (:mod:`introdl.corpus`): the
tiny GPT of the chapter "Transformers" and the recurrent next-word model of
the chapter "Predicting the next word". We sample from the GPT with the
decoding rules of :mod:`introdl.decoding`, judge the samples with the
corpus's own grammar, and compare the models by their perplexity on held-out
sentences, against the perplexity of the grammar itself.
"""

import math
import time
from collections import Counter
from dataclasses import dataclass, field

import torch

from introdl import corpus
from introdl.checks import check_positive_int
from introdl.decoding import perplexity, sample_sequence
from introdl.experiments.transformers import sentence_examples
from introdl.losses import sequence_cross_entropy
from introdl.rnn import RNNLanguageModel
from introdl.text import Vocab, detokenize, lm_windows, tokenize
from introdl.training import History, eval_mode, fit
from introdl.transformer import TinyGPT

__all__ = ["heldout_sentences", "LanguageModels", "train_language_models",
           "sentence_probability", "grammar_perplexity", "is_grammatical",
           "Perplexities", "heldout_perplexities", "complete", "SamplingSweep",
           "sampling_sweep", "next_token_logits"]


def heldout_sentences(train: list[str], n: int, seed: int = 1) -> list[str]:
    """``n`` corpus sentences drawn with ``seed`` that are not in ``train``.

    Raises:
        ValueError: if 20 n draws hold fewer than ``n`` new sentences.
    """
    check_positive_int("n", n)
    seen = set(train)
    fresh = [s for s in corpus.generate_sentences(20 * n, seed=seed) if s not in seen]
    if len(fresh) < n:
        raise ValueError(f"only {len(fresh)} new sentences found, asked for {n}")
    return fresh[:n]


@dataclass
class LanguageModels:
    """What :func:`train_language_models` returns: the vocabulary, the
    training and held-out sentences, both models with their histories, and
    the seconds each took to train."""

    vocab: Vocab
    train: list[str]
    heldout: list[str]
    gpt: TinyGPT
    rnn: RNNLanguageModel
    gpt_history: History = field(default_factory=History)
    rnn_history: History = field(default_factory=History)
    seconds: dict[str, float] = field(default_factory=dict)


def train_language_models(n_sentences: int = 1500, n_heldout: int = 300,
                          gpt_epochs: int = 3, rnn_epochs: int = 8,
                          d_model: int = 32, hidden_size: int = 32,
                          seed: int = 0) -> LanguageModels:
    """Train the two language models on ``n_sentences`` corpus sentences.

    The tiny GPT as in the chapter "Transformers" (one sentence per example,
    two blocks of four heads of width ``d_model``, Adam), but with batches of
    64 and a learning rate of 6e-3; the recurrent model as in "Predicting the
    next word" (windows of 16 tokens of the text stream, Adam with learning
    rate 0.02, batches of 64, gradient clipping). Both use one vocabulary;
    ``n_heldout`` fresh sentences (:func:`heldout_sentences`) are kept for
    evaluation.
    """
    sentences = corpus.generate_sentences(n_sentences, seed=seed)
    heldout = heldout_sentences(sentences, n_heldout, seed=seed + 1)
    tokens = tokenize(" ".join(sentences))
    vocab = Vocab.build(tokens)
    gen = torch.Generator().manual_seed(seed)
    X, Y = sentence_examples(sentences, vocab)
    start = time.perf_counter()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        gpt = TinyGPT(len(vocab), context_len=X.shape[1] + 1, d_model=d_model,
                      num_heads=4, num_layers=2)
    gpt_history = fit(gpt, (X, Y), loss_fn=sequence_cross_entropy,
                      optimizer=torch.optim.Adam(gpt.parameters(), lr=6e-3),
                      num_epochs=gpt_epochs, batch_size=64, generator=gen)
    seconds = {"gpt": time.perf_counter() - start}
    start = time.perf_counter()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        rnn = RNNLanguageModel(len(vocab), embed_dim=16, hidden_size=hidden_size)
    rnn_history = fit(rnn, lm_windows(vocab.encode(tokens), 16, stride=8),
                      loss_fn=sequence_cross_entropy,
                      optimizer=torch.optim.Adam(rnn.parameters(), lr=0.02),
                      num_epochs=rnn_epochs, batch_size=64, clip_norm=1.0,
                      generator=gen)
    seconds["rnn"] = time.perf_counter() - start
    return LanguageModels(vocab, sentences, heldout, gpt, rnn, gpt_history,
                          rnn_history, seconds)


# ---- the grammar as a judge ------------------------------------------------------

def _template_probability(template: list[str], tokens: list[str]) -> float:
    """Probability that filling ``template`` starts with ``tokens``."""
    if len(tokens) > len(template):
        return 0.0
    p, people = 1.0, []
    for slot, word in zip(template, tokens):
        if slot == "{pronoun}":
            p *= word == ("she" if people[0] in corpus.FEMALE_NAMES else "he")
        elif slot.startswith("{"):
            choices = [w for w in corpus.CATEGORIES[slot[1:-1]] if w not in people]
            p *= (word in choices) / len(choices)
            people += [word] if slot == "{person}" else []
        else:
            p *= word == slot
        if p == 0:
            return 0.0
    return p


def sentence_probability(tokens: list[str]) -> float:
    """Probability that a corpus sentence starts with ``tokens`` (a prefix, or
    a whole sentence ending with "."), under the grammar of
    :mod:`introdl.corpus`: templates drawn by weight, slot words uniformly."""
    total = sum(w for _, w in corpus.TEMPLATES)
    return sum(w / total * _template_probability(t.split(), tokens)
               for t, w in corpus.TEMPLATES)


def is_grammatical(sentence: str) -> bool:
    """Whether the corpus's grammar can produce ``sentence`` (a whole
    sentence, ending with ".")."""
    tokens = tokenize(sentence)
    return bool(tokens) and tokens[-1] == "." and sentence_probability(tokens) > 0


def grammar_perplexity(sentences: list[str]) -> float:
    """Perplexity of the grammar itself on ``sentences``, scoring every token
    after the first (as the models are scored): the best any model can reach.

    The probability of tokens ``2..n`` given the first is
    ``P(sentence) / P(first word)``.
    """
    nll, count = 0.0, 0
    for s in sentences:
        tokens = tokenize(s)
        nll -= math.log(sentence_probability(tokens) / sentence_probability(tokens[:1]))
        count += len(tokens) - 1
    return math.exp(nll / count)


# ---- perplexity on held-out sentences --------------------------------------------

@dataclass
class Perplexities:
    """Perplexity per token on held-out sentences, from the worst guess to the
    grammar that generated them."""

    uniform: float
    unigram: float
    rnn: float
    gpt: float
    grammar: float


@torch.no_grad()
def heldout_perplexities(models: LanguageModels) -> Perplexities:
    """Score every token after the first of each held-out sentence.

    The GPT reads the sentence from its first word. The recurrent model, which
    learned from a stream of text, first reads the "." that ends the
    sentence before, so that it knows a sentence begins. The unigram model
    predicts every token by its frequency in the training text.
    """
    vocab = models.vocab
    X, Y = sentence_examples(models.heldout, vocab)  # (n, T) each
    with eval_mode(models.gpt), eval_mode(models.rnn):
        gpt_logits = models.gpt(X)  # (n, T, V)
        dot = torch.full((len(X), 1), vocab.stoi["."])
        rnn_logits = models.rnn(torch.cat([dot, X], dim=1))[:, 1:]  # (n, T, V)
    counts = Counter(tokenize(" ".join(models.train)))
    freq = torch.tensor([counts[t] + 1.0 for t in vocab.itos])  # add-one smoothing
    unigram = freq.log().expand(*Y.shape, -1)  # (n, T, V)
    return Perplexities(uniform=perplexity(torch.zeros_like(unigram), Y),
                        unigram=perplexity(unigram, Y),
                        rnn=perplexity(rnn_logits, Y), gpt=perplexity(gpt_logits, Y),
                        grammar=grammar_perplexity(models.heldout))


# ---- sampling ----------------------------------------------------------------------

def complete(model: TinyGPT, vocab: Vocab, prompts: list[str],
             max_tokens: int | None = None, seed: int = 0, **decoding) -> list[str]:
    """Complete each prompt into a sentence with
    :func:`~introdl.decoding.sample_sequence`, all prompts in one batch.

    ``decoding`` holds ``temperature``, ``top_k`` and ``top_p``; the draws
    come from a generator seeded with ``seed``. Each text ends at its first
    "." (or after ``max_tokens`` tokens, by default as many as the model's
    context leaves). Prompts must have equal lengths in tokens.
    """
    ids = torch.stack([vocab.encode(tokenize(p)) for p in prompts])  # (B, T0)
    if max_tokens is None:
        max_tokens = model.context_len - ids.shape[1]
    stop = vocab.stoi["."]
    out = sample_sequence(model, ids, max_tokens, stop_id=stop,
                          generator=torch.Generator().manual_seed(seed), **decoding)
    texts = []
    for row in out.tolist():
        end = row.index(stop, ids.shape[1]) + 1 if stop in row[ids.shape[1]:] else None
        texts.append(detokenize(vocab.decode(row[:end])))
    return texts


@dataclass
class SamplingSweep:
    """For each decoding setting: its label, its family ("greedy",
    "temperature", "top-k" or "top-p") and the value of that family's
    parameter (0 for greedy), the share of samples the grammar accepts, and
    the share of distinct sentences among the samples."""

    labels: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    grammatical: list[float] = field(default_factory=list)
    distinct: list[float] = field(default_factory=list)


def sampling_sweep(model: TinyGPT, vocab: Vocab, prompts: list[str],
                   settings: dict[str, dict], seed: int = 0) -> SamplingSweep:
    """Complete every prompt under each decoding setting (label -> keyword
    arguments ``temperature``, ``top_k``, ``top_p`` of :func:`complete`) and
    judge the texts with :func:`is_grammatical`."""
    sweep = SamplingSweep()
    for label, decoding in settings.items():
        texts = complete(model, vocab, prompts, seed=seed, **decoding)
        temperature = decoding.get("temperature", 1.0)
        family, value = (("top-p", decoding["top_p"]) if "top_p" in decoding else
                         ("top-k", decoding["top_k"]) if "top_k" in decoding else
                         ("greedy", 0) if temperature == 0 else
                         ("temperature", temperature))
        sweep.labels.append(label)
        sweep.families.append(family)
        sweep.values.append(value)
        sweep.grammatical.append(sum(map(is_grammatical, texts)) / len(texts))
        sweep.distinct.append(len(set(texts)) / len(texts))
    return sweep


@torch.no_grad()
def next_token_logits(model: torch.nn.Module, vocab: Vocab,
                      prompt: str) -> torch.Tensor:
    """The model's logits ``(V,)`` for the token after ``prompt``."""
    with eval_mode(model):
        return model(vocab.encode(tokenize(prompt))[None])[0, -1]

