"""Experiments of the chapter "LSTM and GRU"."""

import dataclasses
import math

import pytest
import torch

from introdl.experiments.lstm_gru import (
    NETWORKS,
    GateMeans,
    Network,
    RecallResult,
    StopBelow,
    lstm_gate_means,
    make_recurrent,
    memory_units,
    recall_vs_delay,
)
from introdl.gated import GRU, LSTM
from introdl.rnn import RNN
from introdl.tasks import first_symbol_recall
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


def test_make_recurrent_orthogonal_start_of_the_rnn():
    gen = torch.Generator().manual_seed(0)
    rnn = make_recurrent("RNN", 3, 5, orthogonal=True, input_scale=0.1, generator=gen)
    W = rnn.weight_hh_l0.detach()
    torch.testing.assert_close(W @ W.T, torch.eye(5))  # all singular values 1
    assert not rnn.bias_ih_l0.any() and not rnn.bias_hh_l0.any()
    default = make_recurrent("RNN", 3, 5, generator=torch.Generator().manual_seed(0))
    # the same draw of input weights, a tenth as large
    torch.testing.assert_close(rnn.weight_ih_l0, 0.1 * default.weight_ih_l0)
    # a small state keeps its length from step to step (tanh is nearly linear)
    h = 1e-3 * torch.randn(4, 5, generator=gen)
    h_next = rnn.step(torch.zeros(4, 3), h)
    torch.testing.assert_close(h_next.norm(dim=1), h.norm(dim=1), rtol=1e-5, atol=0)


def test_make_recurrent_input_scale_for_gated_kinds_too():
    a = make_recurrent("LSTM", 3, 4, generator=torch.Generator().manual_seed(1))
    b = make_recurrent("LSTM", 3, 4, input_scale=0.5,
                       generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(b.weight_ih_l0, 0.5 * a.weight_ih_l0)
    torch.testing.assert_close(b.weight_hh_l0, a.weight_hh_l0)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(kind="LSTM", orthogonal=True), ValueError, "orthogonal is the RNN's start"),
    (dict(kind="RNN", input_scale=-1.0), ValueError, "input_scale"),
    (dict(kind="GRU", input_scale=math.inf), ValueError, "input_scale"),
    (dict(kind="RNN", input_scale=None), TypeError, "input_scale"),
])
def test_make_recurrent_bad_start(kwargs, err, match):
    kind = kwargs.pop("kind")
    with pytest.raises(err, match=match):
        make_recurrent(kind, 3, 4, **kwargs)


def test_networks_have_about_the_same_size():
    counts = [parameter_count(make_recurrent(n.kind, 8, n.hidden_size,
                                             keep_bias=n.keep_bias,
                                             orthogonal=n.orthogonal))
              for n in NETWORKS.values()]
    assert max(counts) / min(counts) < 1.15
    assert {n.kind for n in NETWORKS.values()} == {"RNN", "LSTM", "GRU"}
    assert all(isinstance(n, Network) and n.lr > 0 for n in NETWORKS.values())


def test_gate_means_of_a_new_lstm_are_set_by_its_start():
    lstm = make_recurrent("LSTM", 8, 6, keep_bias=3.0,
                          generator=torch.Generator().manual_seed(0))
    X, _ = first_symbol_recall(64, delay=5, noise_std=2.0, seed=0)
    m = lstm_gate_means(lstm, X)
    assert isinstance(m, GateMeans)
    sig = torch.sigmoid(torch.tensor(3.0)).item()
    assert abs(m.forget_noise - sig) < 0.03  # about sigmoid(3) = 0.95
    assert abs(m.input_symbol - (1 - sig)) < 0.03  # about sigmoid(-3) = 0.05
    assert abs(m.input_noise - (1 - sig)) < 0.06  # the noise moves it a little
    units = torch.zeros(6, dtype=torch.bool)
    units[2] = True
    one = lstm_gate_means(lstm, X, units)
    with torch.no_grad():
        f = lstm.gate_trace(X).f[:, 1:, 2].mean().item()
    assert one.forget_noise == pytest.approx(f)
    memory = memory_units(lstm, X, threshold=0.5)
    assert memory.shape == (6,) and memory.all()  # every f is about 0.95 > 0.5
    assert not memory_units(lstm, X, threshold=0.99).any()


@pytest.mark.parametrize("units, X_shape, match", [
    (torch.zeros(6, dtype=torch.bool), (2, 4, 8), "selecting at least one"),
    (torch.ones(5, dtype=torch.bool), (2, 4, 8), "boolean mask of 6"),
    (torch.ones(6), (2, 4, 8), "boolean mask"),
    (None, (2, 1, 8), "D >= 1"),
])
def test_gate_means_bad_arguments(units, X_shape, match):
    lstm = make_recurrent("LSTM", 8, 6)
    with pytest.raises(ValueError, match=match):
        lstm_gate_means(lstm, torch.zeros(X_shape), units)
    with pytest.raises(TypeError, match="introdl.gated.LSTM"):
        lstm_gate_means(torch.nn.LSTM(8, 6, batch_first=True), torch.zeros(2, 4, 8))


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
    nets = {"LSTM": Network("LSTM", 8, lr=0.05, keep_bias=3.0),
            "GRU": Network("GRU", 8, lr=0.05, keep_bias=3.0)}
    kw = dict(delays=(3,), networks=nets, num_train=512, num_epochs=8, noise_std=1.0)
    first, second = recall_vs_delay(**kw), recall_vs_delay(**kw)
    assert isinstance(first, RecallResult) and first.delays == [3]
    assert first.accuracy == second.accuracy
    assert min(first.accuracy["LSTM"] + first.accuracy["GRU"]) > 0.9
    assert set(first.models) == set(first.params) == set(first.initial) == set(nets)
    # the copy from before training is the network as make_recurrent built it
    start = make_recurrent("LSTM", 8, 8, keep_bias=3.0,
                           generator=torch.Generator().manual_seed(0))
    for name, p in start.named_parameters():
        torch.testing.assert_close(getattr(first.initial["LSTM"].rnn, name), p)
        assert not torch.equal(getattr(first.models["LSTM"].rnn, name), p)


def test_recall_vs_delay_rejects_empty_settings():
    with pytest.raises(ValueError, match="delays and networks must not be empty"):
        recall_vs_delay(delays=())
    with pytest.raises(ValueError, match="delays and networks must not be empty"):
        recall_vs_delay(networks={})


@pytest.mark.slow
def test_gated_networks_fail_without_the_head_start():
    """The claim of the chapter's exercise ex-gates-no-bias."""
    no_bias = {name: dataclasses.replace(NETWORKS[name], keep_bias=0.0)
               for name in ("LSTM", "GRU")}
    r = recall_vs_delay(delays=(16, 32), networks=no_bias)
    assert max(r.accuracy["LSTM"] + r.accuracy["GRU"]) < 0.6


@pytest.mark.slow
def test_learning_rates_of_the_networks_are_the_best_of_the_search():
    """The search behind NETWORKS, and the claims of the exercise ex-gates-lr."""
    rates = (0.005, 0.01, 0.02, 0.04)

    def scores(name, delay):  # lr -> (accuracy, -epochs)
        out = {}
        for lr in rates:
            net = {name: dataclasses.replace(NETWORKS[name], lr=lr)}
            r = recall_vs_delay(delays=(delay,), networks=net)
            out[lr] = (r.accuracy[name][0], -r.epochs[name][0])
        return out

    at_32 = {name: scores(name, 32) for name in NETWORKS}
    for name in ("RNN, orthogonal start", "LSTM", "GRU"):
        best = max(rates, key=at_32[name].get)
        assert at_32[name][NETWORKS[name].lr] == at_32[name][best], name
    default = "RNN, default start"
    assert max(acc for acc, _ in at_32[default].values()) < 0.5  # fails at every rate
    at_16 = scores(default, 16)
    assert max(rates, key=at_16.get) == NETWORKS[default].lr
    ortho = at_32["RNN, orthogonal start"]
    assert min(ortho[0.005][0], ortho[0.01][0]) > 0.95  # the small rates work
    assert max(ortho[0.02][0], ortho[0.04][0]) < 0.6  # the large ones do not
    for name in ("LSTM", "GRU"):
        assert at_32[name][0.005][0] < 0.6 and at_32[name][0.04][0] > 0.95
    for lr in rates:  # no single rate solves the task for all four
        assert min(at_32[name][lr][0] for name in NETWORKS) < 0.9


@pytest.mark.slow
def test_the_chapters_run_is_as_its_text_describes():
    """The words of the chapter about its figure and its gates (the numbers
    themselves are glued from the run)."""
    r = recall_vs_delay(delays=(8, 16, 32), seed=0)  # the chapter's run
    acc = r.accuracy
    default, ortho = acc["RNN, default start"], acc["RNN, orthogonal start"]
    assert min(default[:2]) > 0.99 and default[2] < 0.4  # fails only at 32
    assert min(ortho + r.accuracy["LSTM"] + r.accuracy["GRU"]) > 0.99
    assert r.epochs["RNN, default start"][1:] == [8, 8]  # "the full 8 epochs"
    for name, epochs in r.epochs.items():
        assert epochs == sorted(epochs), name  # grows with the delay
        assert r.epochs["RNN, orthogonal start"][2] <= epochs[2]  # "the fewest"
    X, _ = first_symbol_recall(256, delay=32, noise_std=2.0, seed=1)
    lstm, start = r.models["LSTM"].rnn, r.initial["LSTM"].rnn
    memory = memory_units(lstm, X)
    before, after = lstm_gate_means(start, X, memory), lstm_gate_means(lstm, X, memory)
    assert 0.94 < before.forget_noise < 0.96 and before.input_symbol < 0.06
    assert after.forget_noise > 0.99 > before.forget_noise  # pushed towards 1
    assert after.input_symbol > 4 * before.input_symbol  # opened at the symbol
    assert after.input_noise > 2 * before.input_noise  # and during the noise
    assert 1 < after.input_symbol / after.input_noise < 3  # favoured, not exclusive
    assert lstm_gate_means(lstm, X).forget_noise < after.forget_noise  # others forget
