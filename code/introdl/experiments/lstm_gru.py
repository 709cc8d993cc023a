"""Experiments of the chapter "LSTM and GRU": a plain RNN, an LSTM and a GRU of
about the same size on :func:`introdl.tasks.first_symbol_recall`, a long-term
dependency whose length we choose."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from introdl.checks import check_number, check_positive_int
from introdl.gated import GRU, LSTM
from introdl.rnn import RNN, LastStateModel
from introdl.tasks import first_symbol_recall
from introdl.training import accuracy, evaluate, fit, one_thread, parameter_count

__all__ = ["KINDS", "make_recurrent", "StopBelow", "RecallResult", "recall_vs_delay"]

#: The three kinds of recurrent layer, by name.
KINDS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def make_recurrent(kind: str, input_size: int, hidden_size: int, *,
                   keep_bias: float = 0.0,
                   generator: torch.Generator | None = None) -> nn.Module:
    """A from-scratch ``"RNN"``, ``"LSTM"`` or ``"GRU"`` (batch first).

    ``keep_bias`` is added to the bias of the gate that keeps the old state,
    the LSTM's forget gate ``f`` and the GRU's update gate ``z`` (the second
    block of ``H`` rows in both), and subtracted from the LSTM's input gate
    ``i``. A new network then keeps about ``sigmoid(keep_bias)`` of its state
    per step and writes little, as a GRU does with ``z`` near 1. (Tallec and
    Ollivier's "chrono" initialisation sets the LSTM's biases in this way.)
    The plain RNN has no gate: for it ``keep_bias`` must be 0.

    Raises:
        ValueError: for an unknown ``kind``, a non-finite ``keep_bias`` or a
            non-zero one for the RNN.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")
    check_number("keep_bias", keep_bias)
    if not math.isfinite(keep_bias) or (kind == "RNN" and keep_bias != 0):
        raise ValueError(f"keep_bias must be finite, and 0 for the RNN (which has "
                         f"no gate), got {keep_bias} for {kind}")
    rnn = KINDS[kind](input_size, hidden_size, generator=generator)
    H = hidden_size
    with torch.no_grad():
        if kind != "RNN":
            rnn.bias_hh_l0[H:2 * H] += keep_bias  # f (LSTM) or z (GRU): keep
        if kind == "LSTM":
            rnn.bias_hh_l0[:H] -= keep_bias  # i: write little
    return rnn


class StopBelow:
    """Stop a :func:`introdl.training.fit` run once the validation loss is
    below ``threshold``: the task is solved, more epochs would only cost time.

    It offers the ``step(value, state) -> bool`` and ``best_epoch`` /
    ``best_state`` interface that ``fit(early_stopping=...)`` expects;
    ``best_epoch`` is the epoch that reached the threshold (``None`` until
    then). A NaN loss is never below the threshold. Call :meth:`reset` (or use
    a new object) before a second run; a step after the run was stopped raises
    RuntimeError instead of silently carrying the old run's count.
    """

    def __init__(self, threshold: float):
        self.threshold = check_number("threshold", threshold)
        self.reset()

    def reset(self) -> None:
        """Forget the previous run."""
        self.best_epoch = self.best_state = None
        self.epoch = -1

    def step(self, value: float, state=None) -> bool:
        """Record one epoch's validation loss; True means stop."""
        if self.best_epoch is not None:
            raise RuntimeError("this StopBelow already stopped a run: call reset() "
                               "or use a new one")
        value = float(value)
        self.epoch += 1
        if value < self.threshold:
            self.best_epoch = self.epoch
            return True
        return False


@dataclass
class RecallResult:
    """What :func:`recall_vs_delay` measured: for each kind of network (by
    name), the validation accuracy and the number of epochs per delay, the
    number of parameters, and the model trained on the longest delay."""

    delays: list[int]
    accuracy: dict[str, list[float]]
    epochs: dict[str, list[int]]
    params: dict[str, int]
    models: dict[str, nn.Module]


def recall_vs_delay(delays: Sequence[int] = (4, 8, 16, 32),
                    hidden_sizes: dict[str, int] | None = None, *,
                    num_epochs: int = 8, num_train: int = 1024, num_val: int = 256,
                    batch_size: int = 128, lr: float = 0.04, keep_bias: float = 3.0,
                    noise_std: float = 2.0, stop_loss: float = 0.1,
                    seed: int = 0) -> RecallResult:
    """Train each kind of network on :func:`~introdl.tasks.first_symbol_recall`
    for each delay; return the validation accuracies.

    Every run: Adam with learning rate ``lr``, mini-batches of ``batch_size``,
    at most ``num_epochs`` epochs, stopping early once the validation loss is
    below ``stop_loss`` (:class:`StopBelow`); one CPU thread.

    Args:
        delays: the delays ``T`` to try (at least one).
        hidden_sizes: kind -> hidden size; the default sizes (RNN 28, LSTM 12,
            GRU 14) give the three about the same number of parameters.
        keep_bias: see :func:`make_recurrent` (LSTM and GRU only).
        noise_std: standard deviation of the noise between symbol and answer.
    Raises:
        ValueError: for an empty ``delays`` or ``hidden_sizes``.
    """
    delays = list(delays)
    hidden_sizes = {"RNN": 28, "LSTM": 12, "GRU": 14} if hidden_sizes is None \
        else dict(hidden_sizes)
    if not delays or not hidden_sizes:
        raise ValueError(f"delays and hidden_sizes must not be empty, got {delays} "
                         f"and {hidden_sizes}")
    check_positive_int("num_train", num_train)
    out = RecallResult(delays, {}, {}, {}, {})
    loss_fn = nn.functional.cross_entropy
    for kind, H in hidden_sizes.items():
        accs, epochs = [], []
        for delay in delays:
            train = first_symbol_recall(num_train, delay, noise_std=noise_std,
                                        seed=seed)
            val = first_symbol_recall(num_val, delay, noise_std=noise_std,
                                      seed=seed + 1)
            gen = torch.Generator().manual_seed(seed)
            rnn = make_recurrent(kind, train[0].shape[-1], H, generator=gen,
                                 keep_bias=0.0 if kind == "RNN" else keep_bias)
            model = LastStateModel(rnn, H, int(train[1].max()) + 1, generator=gen)
            with one_thread():
                history = fit(model, train, val, loss_fn=loss_fn,
                              optimizer=torch.optim.Adam(model.parameters(), lr=lr),
                              num_epochs=num_epochs, batch_size=batch_size,
                              early_stopping=StopBelow(stop_loss), generator=gen)
            accs.append(evaluate(model, val, loss_fn, accuracy)[1])
            epochs.append(history.num_epochs)
        out.accuracy[kind], out.epochs[kind] = accs, epochs
        out.params[kind], out.models[kind] = parameter_count(model), model
    return out
