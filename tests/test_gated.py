"""Tests of the from-scratch LSTM and GRU (cells and layers) against PyTorch."""

import pytest
import torch

from introdl.gated import (StopBelow, draw_gru_cell, draw_lstm_cell, make_recurrent,
                           plot_lstm_gates, plot_recall_vs_delay, recall_vs_delay)
from introdl.rnn import (GRU, LSTM, GRUCell, GRUGates, LSTMCell, LSTMGates, gru_gates,
                         lstm_gates)
from introdl.tasks import first_symbol_recall
from introdl.training import parameter_count

F64 = torch.float64
PAIRS = [(LSTMCell, torch.nn.LSTMCell), (GRUCell, torch.nn.GRUCell)]
LAYERS = [(LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU)]


def _copy(ours_class, theirs, **kwargs):
    """Give ``theirs`` random, non-default weights and load them into ours."""
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0.0, 0.6)
    ours = ours_class(theirs.input_size, theirs.hidden_size, **kwargs).double()
    ours.load_state_dict(theirs.state_dict())
    return ours


def _state(cls, B, H, requires_grad=False):
    def make():
        return torch.randn(B, H, dtype=F64, requires_grad=requires_grad)

    return (make(), make()) if cls is LSTMCell else make()


def _flat(out):
    return torch.cat([t.flatten() for t in out]) if isinstance(out, tuple) else out


@pytest.mark.parametrize("ours_class, theirs_class", PAIRS)
def test_state_dict_names_and_shapes_match_torch(ours_class, theirs_class):
    ours, theirs = ours_class(3, 5), theirs_class(3, 5)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()}
    ours.load_state_dict(theirs.state_dict())  # strict: same keys and shapes
    assert all(p.abs().max() <= 5 ** -0.5 for p in ours_class(3, 5).parameters())


@pytest.mark.parametrize("ours_class, theirs_class", PAIRS)
def test_values_and_gradients_match_torch(ours_class, theirs_class):
    theirs = theirs_class(3, 4, dtype=F64)
    ours = _copy(ours_class, theirs)
    x = torch.randn(6, 3, dtype=F64, requires_grad=True)
    state = _state(ours_class, 6, 4, requires_grad=True)
    out_ours, out_theirs = _flat(ours(x, state)), _flat(theirs(x, state))
    torch.testing.assert_close(out_ours, out_theirs)
    w = torch.randn_like(out_ours)  # a random loss, so that no error can hide
    inputs = [x, *(state if isinstance(state, tuple) else (state,))]
    g_ours = torch.autograd.grad((out_ours * w).sum(),
                                 inputs + list(ours.parameters()))
    g_theirs = torch.autograd.grad((out_theirs * w).sum(),
                                   inputs + list(theirs.parameters()))
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("ours_class, theirs_class", PAIRS)
def test_none_state_means_zeros(ours_class, theirs_class):
    cell = ours_class(3, 4).double()
    x = torch.randn(2, 3, dtype=F64)
    zeros = torch.zeros(2, 4, dtype=F64)
    state = (zeros, zeros) if ours_class is LSTMCell else zeros
    torch.testing.assert_close(_flat(cell(x)), _flat(cell(x, state)))
    if ours_class is LSTMCell:
        h, c = cell(x)
        assert h.shape == c.shape == (2, 4)


def test_gate_order_is_torchs():
    """Only the forget block of the bias changes the forget gate (i, f, g, o)."""
    cell = LSTMCell(2, 3)
    x = torch.randn(4, 2)
    before = cell.gates(x)
    with torch.no_grad():
        cell.bias_ih[3:6] += 5.0
    after = cell.gates(x)
    assert (after.f > before.f).all()
    for name in ("i", "g", "o"):
        torch.testing.assert_close(getattr(after, name), getattr(before, name))
    gru = GRUCell(2, 3)
    with torch.no_grad():
        gru.bias_hh[3:6] = 50.0  # update gate z near 1: keep the old state
    h = torch.randn(4, 3)
    torch.testing.assert_close(gru(x, h), h, atol=1e-6, rtol=0)


def test_gru_reset_gate_multiplies_after_the_matrix_product():
    """With r = 0, the candidate ignores W_hn h + b_hn entirely."""
    a, b = torch.randn(2, 9), torch.randn(2, 9)
    a[:, :3] = -100.0  # reset pre-activation: r = 0
    gates = gru_gates(a, b)
    torch.testing.assert_close(gates.n, torch.tanh(a[:, 6:]))
    assert isinstance(gates, GRUGates) and isinstance(lstm_gates(a[:, :8]), LSTMGates)


@pytest.mark.parametrize("ours_class", [LSTMCell, GRUCell])
@pytest.mark.parametrize("bad, match", [
    ("x", r"x must have shape \(batch, input_size\) with input_size=3, got \(2, 5\)"),
    ("h", r"h must have shape \(2, 4\) \(batch, hidden_size\), got \(2, 3\)"),
    ("batch", r"h must have shape \(2, 4\) \(batch, hidden_size\), got \(5, 4\)"),
])
def test_wrong_sizes_raise_value_error_naming_the_argument(ours_class, bad, match):
    cell = ours_class(3, 4)
    x = torch.randn(2, 5) if bad == "x" else torch.randn(2, 3)
    h = {"x": torch.randn(2, 4), "h": torch.randn(2, 3),
         "batch": torch.randn(5, 4)}[bad]
    state = (h, torch.zeros(2, 4)) if ours_class is LSTMCell else h
    with pytest.raises(ValueError, match=match):
        cell(x, state)


def test_lstm_checks_c_and_the_state_type():
    cell = LSTMCell(3, 4)
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"c must have shape \(2, 4\)"):
        cell(x, (torch.zeros(2, 4), torch.zeros(2, 5)))
    with pytest.raises(TypeError, match="state must be a pair"):
        cell(x, torch.zeros(2, 4))
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        cell(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="hidden_size must be > 0"):
        LSTMCell(3, 0)


@pytest.mark.parametrize("ours_class, theirs_class", LAYERS)
def test_layers_match_torch_over_a_sequence(ours_class, theirs_class):
    theirs = theirs_class(3, 4, batch_first=True, dtype=F64)
    ours = _copy(ours_class, theirs)
    x = torch.randn(2, 7, 3, dtype=F64, requires_grad=True)
    h0 = torch.randn(1, 2, 4, dtype=F64)
    state = (h0, torch.randn(1, 2, 4, dtype=F64)) if ours_class is LSTM else h0
    (out_o, st_o), (out_t, st_t) = ours(x, state), theirs(x, state)
    torch.testing.assert_close(out_o, out_t)
    torch.testing.assert_close(st_o, st_t)
    (g_o,) = torch.autograd.grad(out_o.sum() + _flat(st_o).sum(), x)
    (g_t,) = torch.autograd.grad(out_t.sum() + _flat(st_t).sum(), x)
    torch.testing.assert_close(g_o, g_t)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0])  # zero initial state


def test_layer_equals_its_cell_unrolled_and_traces_gates():
    lstm = LSTM(3, 4).double()
    cell = LSTMCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = torch.randn(2, 5, 3, dtype=F64)
    state, hs = None, []
    for t in range(5):
        state = cell(x[:, t], state)
        hs.append(state[0])
    torch.testing.assert_close(lstm(x)[0], torch.stack(hs, 1))
    trace = lstm.gate_trace(x)
    assert all(g.shape == (2, 5, 4) for g in trace)
    torch.testing.assert_close(trace.f[:, 0], cell.gates(x[:, 0]).f)
    assert GRU(3, 4).gate_trace(torch.randn(2, 5, 3)).z.shape == (2, 5, 4)


def test_layers_reject_bad_inputs():
    with pytest.raises(ValueError, match=r"x must have shape \(batch, T, input_size\)"):
        LSTM(3, 4)(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        GRU(3, 4)(torch.randn(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="at least one time step"):
        LSTM(3, 4)(torch.randn(2, 0, 3))


def test_seeded_initialisation_repeats():
    a = LSTMCell(3, 4, generator=torch.Generator().manual_seed(5))
    b = LSTMCell(3, 4, generator=torch.Generator().manual_seed(5))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_first_symbol_recall_shapes_and_content():
    X, y = first_symbol_recall(50, delay=6, num_symbols=3, noise_size=2, seed=1)
    assert X.shape == (50, 7, 5) and y.shape == (50,) and y.dtype == torch.int64
    torch.testing.assert_close(X[:, 0, :3].argmax(1), y)
    assert (X[:, 1:, :3] == 0).all() and (X[:, 0, 3:] == 0).all()
    torch.testing.assert_close(first_symbol_recall(50, 6, 3, 2, seed=1)[0], X)
    with pytest.raises(ValueError, match="num_symbols must be >= 2"):
        first_symbol_recall(5, 3, num_symbols=1)
    with pytest.raises(ValueError, match="noise_std"):
        first_symbol_recall(5, 3, noise_std=-1.0)


def test_make_recurrent_sets_the_keep_bias():
    lstm = make_recurrent("LSTM", 3, 4, keep_bias=3.0)
    gates = lstm.gate_trace(torch.zeros(1, 1, 3))
    assert (gates.f > 0.9).all() and (gates.i < 0.1).all()
    gru = make_recurrent("GRU", 3, 4, keep_bias=3.0)
    assert (gru.gate_trace(torch.zeros(1, 1, 3)).z > 0.9).all()
    with pytest.raises(ValueError, match="kind must be one of"):
        make_recurrent("Transformer", 3, 4)
    assert parameter_count(make_recurrent("RNN", 3, 4)) == 4 * 3 + 4 * 4 + 8


def test_stop_below_stops_at_the_threshold():
    stop = StopBelow(0.1)
    assert [stop.step(v) for v in (0.5, 0.2, 0.05)] == [False, False, True]
    assert stop.best_epoch == 2


def test_gated_networks_learn_a_short_recall_and_repeat():
    kw = dict(delays=(3,), hidden_sizes={"LSTM": 8, "GRU": 8}, num_train=512,
              num_epochs=8, noise_std=1.0, lr=0.05)
    first, second = recall_vs_delay(**kw), recall_vs_delay(**kw)
    assert first["accuracy"] == second["accuracy"]
    assert min(first["accuracy"]["LSTM"] + first["accuracy"]["GRU"]) > 0.9


def test_figures_draw():
    results = {"delays": [2, 4], "accuracy": {"RNN": [1.0, 0.3]},
               "params": {"RNN": 10}}
    ax = plot_recall_vs_delay(results).axes[0]
    assert ax.get_xlabel().startswith("delay") and len(ax.lines) == 2
    gates = LSTMGates(*(torch.rand(5, 3) for _ in range(4)))
    assert len(plot_lstm_gates(gates).axes) == 6  # 3 heatmaps + 3 colour bars
    assert draw_lstm_cell().axes and draw_gru_cell().axes
