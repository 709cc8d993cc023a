"""Tests of the from-scratch LSTM and GRU (cells and layers) against PyTorch and
against misuse."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.gated import (
    GRU,
    LSTM,
    GRUCell,
    GRUGates,
    LSTMCell,
    LSTMGates,
    gru_gates,
    gru_update,
    lstm_gates,
    lstm_update,
)

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
    ("x", r"x must have shape \(batch, input_size\) with input_size=3.*got \(2, 5\)"),
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
    with pytest.raises(ValueError, match=r"x must have 3 dimension\(s\)"):
        LSTM(3, 4)(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        GRU(3, 4)(torch.randn(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="the number of time steps must be > 0"):
        LSTM(3, 4)(torch.randn(2, 0, 3))


def test_seeded_initialisation_repeats():
    a = LSTMCell(3, 4, generator=torch.Generator().manual_seed(5))
    b = LSTMCell(3, 4, generator=torch.Generator().manual_seed(5))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)




# ---- misuse: the gate functions ---------------------------------------------------

@pytest.mark.parametrize("z", [torch.randn(2, 7), torch.randn(2, 0), torch.tensor(1.0)])
def test_lstm_gates_needs_four_blocks(z):
    with pytest.raises(ValueError, match=r"z must end in 4 \* H > 0 entries"):
        lstm_gates(z)


def test_gate_functions_reject_wrong_types_and_shapes():
    with pytest.raises(TypeError, match="z must be a torch.Tensor"):
        lstm_gates([[0.0] * 8])
    with pytest.raises(TypeError, match="z must have a floating-point dtype"):
        lstm_gates(torch.zeros(2, 8, dtype=torch.long))
    with pytest.raises(ValueError, match=r"a and b must have one shape \(B, 3H\)"):
        gru_gates(torch.randn(2, 9), torch.randn(2, 6))
    with pytest.raises(ValueError, match="a and b must have one shape"):
        gru_gates(torch.randn(2, 8), torch.randn(2, 8))  # not a multiple of 3
    with pytest.raises(ValueError, match="a and b must have one shape"):
        gru_gates(torch.tensor(0.0), torch.tensor(0.0))
    with pytest.raises(TypeError, match="b must be a torch.Tensor"):
        gru_gates(torch.randn(2, 9), None)
    gates = lstm_gates(torch.randn(2, 8))
    with pytest.raises(ValueError, match=r"and c must agree, got c \(2, 3\)"):
        lstm_update(gates, torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"gates \(LSTMGates\) and c must agree"):
        lstm_update(torch.randn(2, 8), torch.zeros(2, 2))  # pre-activations, not gates
    with pytest.raises(TypeError, match="c must be a torch.Tensor"):
        lstm_update(gates, None)
    g = gru_gates(torch.randn(2, 9), torch.randn(2, 9))
    with pytest.raises(ValueError, match=r"and h must agree, got h \(3, 3\)"):
        gru_update(g, torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"gates \(GRUGates\) and h must agree"):
        gru_update(gates, torch.zeros(2, 2))  # LSTM gates given to the GRU


def test_gate_functions_match_the_equations():
    z = torch.randn(3, 8, dtype=F64)
    i, f, g, o = lstm_gates(z)
    torch.testing.assert_close(f, torch.sigmoid(z[:, 2:4]))
    torch.testing.assert_close(g, torch.tanh(z[:, 4:6]))
    c = torch.randn(3, 2, dtype=F64)
    h_new, c_new = lstm_update(LSTMGates(i, f, g, o), c)
    torch.testing.assert_close(c_new, f * c + i * g)
    torch.testing.assert_close(h_new, o * torch.tanh(c_new))
    gates = GRUGates(*(torch.rand(3, 2, dtype=F64) for _ in range(3)))
    h = torch.randn(3, 2, dtype=F64)
    torch.testing.assert_close(gru_update(gates, h),
                               gates.z * h + (1 - gates.z) * gates.n)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.floats(-1e3, 1e3))
def test_gates_lie_in_their_ranges(B, H, scale):
    """Property: sigmoid gates in [0, 1], candidates in [-1, 1], for any inputs."""
    z = scale * torch.randn(B, 4 * H, dtype=F64)
    gates = lstm_gates(z)
    for name in ("i", "f", "o"):
        v = getattr(gates, name)
        assert ((v >= 0) & (v <= 1)).all()
    assert gates.g.abs().max() <= 1
    r, zz, n = gru_gates(z[:, :3 * H], -z[:, H:])
    assert ((r >= 0) & (r <= 1) & (zz >= 0) & (zz <= 1)).all() and n.abs().max() <= 1


# ---- misuse: cells and layers -----------------------------------------------------

@pytest.mark.parametrize("cls", [LSTMCell, GRUCell, LSTM, GRU])
@pytest.mark.parametrize("args, err, match", [
    ((0, 4), ValueError, "input_size must be > 0"),
    ((3, 0), ValueError, "hidden_size must be > 0"),
    ((3.0, 4), TypeError, "input_size must be an int"),
    ((3, None), TypeError, "hidden_size must be an int"),
])
def test_bad_sizes(cls, args, err, match):
    with pytest.raises(err, match=match):
        cls(*args)


@pytest.mark.parametrize("cls", [LSTMCell, GRUCell])
def test_cells_reject_bad_inputs(cls):
    cell = cls(3, 4)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        cell([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"x must have shape \(batch, input_size\)"):
        cell(torch.tensor(1.0))  # 0-d
    with pytest.raises(ValueError, match=r"x must have shape \(batch, input_size\)"):
        cell(torch.randn(3))  # unbatched: not supported, unlike torch
    with pytest.raises(ValueError, match="dtype torch.float32"):
        cell(torch.randn(2, 3, dtype=F64))
    assert _flat(cell(torch.zeros(0, 3))).numel() == 0  # an empty batch is fine


def test_lstm_cell_state_misuse():
    cell = LSTMCell(3, 4)
    x = torch.randn(2, 3)
    with pytest.raises(TypeError, match="state must be a pair"):
        cell(x, torch.zeros(2, 2, 4))  # one tensor, not a pair: not unpacked
    with pytest.raises(TypeError, match="state must be a pair"):
        cell(x, (torch.zeros(2, 4),))
    with pytest.raises(TypeError, match="c must be a torch.Tensor"):
        cell(x, (torch.zeros(2, 4), None))
    h, c = cell(x, [torch.zeros(2, 4), torch.zeros(2, 4)])  # a list works too
    assert h.shape == c.shape == (2, 4)
    with pytest.raises(TypeError, match="state must be a pair"):
        cell.gates(x, 0.0)


def test_layers_state_misuse():
    lstm, gru = LSTM(3, 4), GRU(3, 4)
    x = torch.randn(2, 5, 3)
    with pytest.raises(TypeError, match=r"state must be a pair \(h0, c0\)"):
        lstm(x, torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match=r"c0 must have shape \(1, 2, 4\)"):
        lstm(x, (torch.zeros(1, 2, 4), torch.zeros(2, 4)))
    with pytest.raises(TypeError, match="h0 must be a torch.Tensor"):
        gru(x, [[0.0]])
    with pytest.raises(ValueError, match="the number of time steps must be > 0"):
        gru(torch.randn(2, 0, 3))
    with pytest.raises(TypeError, match="x must have dtype torch.float32, got "
                                        "torch.float64"):
        gru(x.double())
    with pytest.raises(ValueError, match=r"x must have 3 dimension\(s\)"):
        lstm(torch.tensor(0.0))
    nan = lstm(torch.full((1, 2, 3), math.nan))[0]
    assert nan.isnan().all()  # NaN in, NaN out, as in torch


def test_gate_traces_have_the_right_shape_and_ranges():
    trace = LSTM(3, 4).gate_trace(torch.randn(2, 6, 3))
    assert isinstance(trace, LSTMGates) and trace.i.shape == (2, 6, 4)
    assert ((trace.f >= 0) & (trace.f <= 1)).all()
    gru_trace = GRU(3, 4).gate_trace(torch.randn(2, 6, 3), torch.zeros(1, 2, 4))
    assert isinstance(gru_trace, GRUGates) and gru_trace.n.shape == (2, 6, 4)


@settings(max_examples=20, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 5), n_in=st.integers(1, 4),
       H=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_layers_agree_with_torch_for_any_sizes(B, T, n_in, H, seed):
    torch.manual_seed(seed)
    x = torch.randn(B, T, n_in, dtype=F64)
    for ours_class, theirs_class in LAYERS:
        theirs = theirs_class(n_in, H, batch_first=True, dtype=F64)
        ours = ours_class(n_in, H).double()
        ours.load_state_dict(theirs.state_dict())
        torch.testing.assert_close(ours(x)[0], theirs(x)[0])
