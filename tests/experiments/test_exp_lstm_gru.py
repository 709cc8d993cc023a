"""Experiments of the chapter "LSTM and GRU"."""

import math

import pytest
import torch

from introdl.experiments.lstm_gru import (
    RecallResult,
    StopBelow,
    make_recurrent,
    recall_vs_delay,
)
from introdl.gated import GRU, LSTM
from introdl.rnn import RNN
from introdl.training import fit, parameter_count


def test_make_recurrent_sets_the_keep_bias():
    lstm = make_recurrent("LSTM", 3, 4, keep_bias=3.0)
    assert isinstance(lstm, LSTM)
    gates = lstm.gate_trace(torch.zeros(1, 1, 3))
    assert (gates.f > 0.9).all() and (gates.i < 0.1).all()
    gru = make_recurrent("GRU", 3, 4, keep_bias=3.0)
    assert isinstance(gru, GRU) and (gru.gate_trace(torch.zeros(1, 1, 3)).z > 0.9).all()
    with pytest.raises(ValueError, match="kind must be one of"):
        make_recurrent("Transformer", 3, 4)
    assert parameter_count(make_recurrent("RNN", 3, 4)) == 4 * 3 + 4 * 4 + 8
    assert isinstance(make_recurrent("RNN", 3, 4), RNN)


@pytest.mark.parametrize("kind, keep_bias, err", [
    ("RNN", 3.0, ValueError),  # no gate to set: refused, not silently ignored
    ("LSTM", math.inf, ValueError), ("GRU", math.nan, ValueError),
    ("LSTM", None, TypeError),
])
def test_make_recurrent_bad_keep_bias(kind, keep_bias, err):
    with pytest.raises(err, match="keep_bias"):
        make_recurrent(kind, 3, 4, keep_bias=keep_bias)


def test_stop_below_stops_at_the_threshold():
    stop = StopBelow(0.1)
    assert [stop.step(v) for v in (0.5, 0.2, 0.05)] == [False, False, True]
    assert stop.best_epoch == 2


def test_stop_below_refuses_reuse_until_reset_and_ignores_nan():
    stop = StopBelow(0.1)
    assert stop.step(math.nan) is False  # a NaN loss is not below anything
    assert stop.step(0.01) is True
    with pytest.raises(RuntimeError, match="already stopped a run"):
        stop.step(0.5)
    stop.reset()
    assert stop.best_epoch is None and stop.step(0.05) and stop.best_epoch == 0
    with pytest.raises(TypeError, match="threshold must be a real number"):
        StopBelow(None)


def test_stop_below_ends_a_fit_run():
    X, y = torch.randn(32, 3), torch.randn(32, 1)
    model = torch.nn.Linear(3, 1)
    history = fit(model, (X, y), (X, y), loss_fn=torch.nn.functional.mse_loss,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=50,
                  early_stopping=StopBelow(math.inf))
    assert history.num_epochs == 1 and history.stopped_epoch == 0


@pytest.mark.slow
def test_gated_networks_learn_a_short_recall_and_repeat():
    kw = dict(delays=(3,), hidden_sizes={"LSTM": 8, "GRU": 8}, num_train=512,
              num_epochs=8, noise_std=1.0, lr=0.05)
    first, second = recall_vs_delay(**kw), recall_vs_delay(**kw)
    assert isinstance(first, RecallResult) and first.delays == [3]
    assert first.accuracy == second.accuracy
    assert min(first.accuracy["LSTM"] + first.accuracy["GRU"]) > 0.9
    assert set(first.models) == set(first.params) == {"LSTM", "GRU"}


def test_recall_vs_delay_rejects_empty_settings():
    with pytest.raises(ValueError, match="delays and hidden_sizes must not be empty"):
        recall_vs_delay(delays=())
    with pytest.raises(ValueError, match="delays and hidden_sizes must not be empty"):
        recall_vs_delay(hidden_sizes={})
