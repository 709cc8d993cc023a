"""Experiments of the chapter "Deep sequence modeling": the naive per-step model
against a recurrent one on the delayed echo, how the parameters of the two kinds
of model grow with the sequence length, and how predictable the pronouns of the
book's corpus are."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_positive_int
from introdl.corpus import FEMALE_NAMES
from introdl.losses import sequence_accuracy, sequence_cross_entropy
from introdl.tasks import delayed_echo
from introdl.training import History, fit, parameter_count

__all__ = ["EchoRun", "train_echo_models", "parameter_counts", "pronoun_statistics"]


@dataclass
class EchoRun:
    """A model trained on the delayed echo, its history and its final
    validation accuracy (``history.val_metric`` holds one per epoch)."""

    model: nn.Module
    history: History
    val_accuracy: float


def train_echo_models(models: dict[str, Callable[[int, int, int], nn.Module]], *,
                      delay: int = 2, hidden_size: int = 16, num_epochs: int = 25,
                      n_train: int = 512, seq_len: int = 20,
                      seed: int = 0) -> dict[str, EchoRun]:
    """Train each model of ``models`` (name -> class, called as ``cls(4,
    hidden_size, 4)``) on :func:`~introdl.tasks.delayed_echo` with 4 symbols,
    with ``fit`` and Adam. Every model starts from the same seed, and the
    seeding leaves torch's global random state as it was."""
    train = delayed_echo(n_train, seq_len, delay, seed=seed)
    val = delayed_echo(256, seq_len, delay, seed=seed + 1)
    results = {}
    for name, cls in models.items():
        with torch.random.fork_rng():  # a seeded start; the global state is restored
            torch.manual_seed(seed)
            model = cls(4, hidden_size, 4)
        history = fit(model, train, val, loss_fn=sequence_cross_entropy,
                      optimizer=torch.optim.Adam(model.parameters(), lr=0.02),
                      num_epochs=num_epochs, batch_size=64, metric=sequence_accuracy,
                      generator=torch.Generator().manual_seed(seed))
        results[name] = EchoRun(model, history, history.val_metric[-1])
    return results


def parameter_counts(seq_lens: Sequence[int], input_size: int,
                     hidden_size: int) -> dict[str, list[int]]:
    """Weights needed to read a whole sequence of each length ``T`` in
    ``seq_lens``: a feed-forward layer on the flattened sequence needs
    ``(T * input_size + 1) * hidden_size``, growing with ``T``; a simple RNN
    shares its weights across steps, ``hidden_size * (input_size + hidden_size
    + 2)`` whatever ``T``. Returns one list of counts per kind of model."""
    check_positive_int("input_size", input_size)
    check_positive_int("hidden_size", hidden_size)
    ff = [(check_positive_int("T", T) * input_size + 1) * hidden_size
          for T in seq_lens]
    rnn = parameter_count(nn.RNN(input_size, hidden_size))  # the same for every T
    return {"feed-forward on the whole sequence": ff, "recurrent": [rnn] * len(ff)}


def pronoun_statistics(sentences: Iterable[str]) -> dict[str, float]:
    """How well can "she" or "he" be predicted in the corpus's sentences
    "<name> ... and <pronoun> ..."?

    Returns the probability of "she" (a) given only the previous word "and",
    (b) given that the sentence starts with a woman's name, (c) given that it
    starts with a man's name (NaN if no such sentence). (a) is what a model
    that sees one step back can know; (b) and (c) need the first word.

    Raises:
        TypeError: if ``sentences`` is a single string.
        ValueError: if no sentence has the form "... and she/he ...".
    """
    if isinstance(sentences, str):
        raise TypeError("sentences must be a collection of sentences, got a str")
    seen = {"and": [], "female": [], "male": []}
    for s in sentences:
        tokens = s.split()
        for t in range(1, len(tokens)):
            if tokens[t - 1] == "and" and tokens[t] in ("she", "he"):
                she = tokens[t] == "she"
                seen["and"].append(she)
                seen["female" if tokens[0] in FEMALE_NAMES else "male"].append(she)
    if not seen["and"]:
        raise ValueError("sentences hold no '... and she/he ...' sentence")
    share = {k: sum(v) / len(v) if v else float("nan") for k, v in seen.items()}
    return {'previous word "and"': share["and"],
            "sentence starts with a woman's name": share["female"],
            "sentence starts with a man's name": share["male"]}
