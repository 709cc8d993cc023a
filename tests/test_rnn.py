"""Tests of the simple recurrent cell, its unrolling, the one-layer RNN and the
sequence models built from it, against PyTorch and against misuse."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.gated import LSTMCell
from introdl.rnn import (
    RNN,
    LastStateModel,
    PerStepMLP,
    RNNCell,
    RNNLanguageModel,
    RNNTagger,
    rnn_step,
    scaled_orthogonal,
    unroll,
)
from introdl.tasks import first_value_recall
from introdl.training import parameter_count

F64 = torch.float64


def _pair(nonlinearity="tanh", input_size=3, hidden_size=5, seed=0):
    """Our cell and torch's, with the same random (non-default) weights."""
    torch.manual_seed(seed)
    theirs = torch.nn.RNNCell(input_size, hidden_size, nonlinearity=nonlinearity,
                              dtype=F64)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0.0, 0.7)
    ours = RNNCell(input_size, hidden_size, nonlinearity=nonlinearity).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


# ---- rnn_step ---------------------------------------------------------------------

def test_rnn_step_without_bias():
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    W, U = torch.randn(4, 3), torch.randn(4, 4)
    torch.testing.assert_close(rnn_step(x, h, W, U), torch.tanh(x @ W.T + h @ U.T))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("keep", ["both", "ih", "hh", "none"])
def test_rnn_step_with_each_bias_alone_matches_torch(nonlinearity, keep):
    """Each bias may be None (issue 14: bias_ih=None used to drop bias_hh, and
    bias_hh=None raised a bare TypeError). Compared with nn.RNNCell whose left-out
    bias is zero, and with bias=False when both are left out."""
    torch.manual_seed(1)
    cell = torch.nn.RNNCell(3, 4, bias=keep != "none", nonlinearity=nonlinearity,
                            dtype=F64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_(0.0, 0.8)
        if keep == "ih":
            cell.bias_hh.zero_()
        if keep == "hh":
            cell.bias_ih.zero_()
    b_ih = cell.bias_ih if keep in ("both", "ih") else None
    b_hh = cell.bias_hh if keep in ("both", "hh") else None
    x, h = torch.randn(5, 3, dtype=F64), torch.randn(5, 4, dtype=F64)
    ours = rnn_step(x, h, cell.weight_ih, cell.weight_hh, b_ih, b_hh, nonlinearity)
    torch.testing.assert_close(ours, cell(x, h))


def test_rnn_step_bias_hh_alone_is_not_dropped():
    x, h = torch.zeros(1, 2), torch.zeros(1, 3)
    W, U, b = torch.zeros(3, 2), torch.zeros(3, 3), torch.ones(3)
    torch.testing.assert_close(rnn_step(x, h, W, U, None, b), torch.tanh(b)[None])
    torch.testing.assert_close(rnn_step(x, h, W, U, b, None), torch.tanh(b)[None])


@pytest.mark.parametrize("args, err, match", [
    (dict(nonlinearity="sigmoid"), ValueError, "nonlinearity must be 'tanh' or 'relu'"),
    (dict(nonlinearity=None), ValueError, "nonlinearity"),
    (dict(x=torch.randn(2, 4)), ValueError, r"x must .* input_size=3 .*\(2, 4\)"),
    (dict(h=torch.randn(2, 5)), ValueError, r"h must .* hidden_size=4 .*\(2, 5\)"),
    (dict(x=torch.tensor(1.0)), ValueError, r"x must have size input_size=3 .*\(\)"),
    (dict(x=torch.randn(2, 3, dtype=F64)), ValueError, "dtype torch.float32"),
    (dict(x=torch.ones(2, 3, dtype=torch.int64)), ValueError, "x must .* dtype"),
    (dict(x=[[1.0, 2.0, 3.0]]), TypeError, "x must be a torch.Tensor"),
    (dict(h=None), TypeError, "h must be a torch.Tensor"),
])
def test_rnn_step_misuse_names_the_argument(args, err, match):
    kw = dict(x=torch.randn(2, 3), h=torch.randn(2, 4), weight_ih=torch.randn(4, 3),
              weight_hh=torch.randn(4, 4))
    kw.update(args)
    with pytest.raises(err, match=match):
        rnn_step(**kw)


def test_rnn_step_empty_batch_and_nan_propagate_as_documented():
    W, U = torch.randn(4, 3), torch.randn(4, 4)
    assert rnn_step(torch.zeros(0, 3), torch.zeros(0, 4), W, U).shape == (0, 4)
    out = rnn_step(torch.full((1, 3), math.nan), torch.zeros(1, 4), W, U)
    assert out.isnan().all()  # NaN in, NaN out, like torch


# ---- RNNCell ----------------------------------------------------------------------

def test_parameters_have_torch_names_and_shapes():
    ours = RNNCell(4, 6)
    theirs = torch.nn.RNNCell(4, 6)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()}
    bound = 1 / 6 ** 0.5
    assert all(p.abs().max() <= bound for p in ours.parameters())


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_cell_matches_torch_values_and_gradients(nonlinearity):
    ours, theirs = _pair(nonlinearity)
    x = torch.randn(4, 3, dtype=F64, requires_grad=True)
    h = torch.randn(4, 5, dtype=F64, requires_grad=True)
    out_ours, out_theirs = ours(x, h), theirs(x, h)
    torch.testing.assert_close(out_ours, out_theirs)
    w = torch.randn(4, 5, dtype=F64)  # a random upstream gradient
    g_ours = torch.autograd.grad((out_ours * w).sum(), [x, h, *ours.parameters()])
    g_theirs = torch.autograd.grad((out_theirs * w).sum(),
                                   [x, h, *theirs.parameters()])
    assert len(g_ours) == 6
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b)


def test_cell_default_state_is_zero_and_unbatched_input_works():
    ours, theirs = _pair()
    x = torch.randn(2, 3, dtype=F64)
    torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours(x), ours(x, torch.zeros(2, 5, dtype=F64)))
    assert ours(x[0]).shape == (5,)
    torch.testing.assert_close(ours(x[0]), theirs(x[0]))


def test_cell_equation_by_hand():
    cell = RNNCell(2, 2)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        cell.weight_hh.copy_(torch.tensor([[0.5, 0.0], [0.0, 0.0]]))
        cell.bias_ih.zero_()
        cell.bias_hh.fill_(0.25)
    h = cell(torch.tensor([[1.0, -1.0]]), torch.tensor([[2.0, 3.0]]))
    expected = torch.tanh(torch.tensor([[1.0 + 1.0 + 0.25, -2.0 + 0.25]]))
    torch.testing.assert_close(h, expected)


def test_generator_makes_initialisation_reproducible():
    a = RNNCell(3, 4, generator=torch.Generator().manual_seed(1))
    b = RNNCell(3, 4, generator=torch.Generator().manual_seed(1))
    c = RNNCell(3, 4, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(a.weight_hh, b.weight_hh)
    assert not torch.equal(a.weight_hh, c.weight_hh)


def test_cell_wrong_sizes_raise_naming_the_argument():
    cell = RNNCell(3, 5)
    with pytest.raises(ValueError, match=r"x must have size input_size=3 .*\(2, 4\)"):
        cell(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"h must have shape \(2, 5\), got \(2, 4\)"):
        cell(torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"h must have shape \(2, 5\)"):
        cell(torch.randn(2, 3), torch.randn(3, 5))
    with pytest.raises(ValueError, match="x must have 1 or 2 dimension"):
        cell(torch.randn(2, 6, 3))
    with pytest.raises(ValueError, match="x must have 1 or 2 dimension"):
        cell(torch.tensor(1.0))  # 0-d
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        cell(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        cell([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="h must be a torch.Tensor"):
        cell(torch.randn(2, 3), [[0.0] * 5] * 2)
    with pytest.raises(ValueError, match="dtype torch.float32"):
        cell(torch.randn(2, 3, dtype=F64))  # float64 input, float32 weights


def test_cell_empty_batch_gives_an_empty_state():
    assert RNNCell(3, 5)(torch.zeros(0, 3)).shape == (0, 5)


@pytest.mark.parametrize("args, err, match", [
    ((0, 5), ValueError, "input_size must be > 0"),
    ((3, -1), ValueError, "hidden_size must be > 0"),
    ((3, 5, "sigmoid"), ValueError, "nonlinearity must be 'tanh' or 'relu'"),
    ((3, 5, None), ValueError, "nonlinearity must be 'tanh' or 'relu'"),
    ((3.0, 5), TypeError, "input_size must be an int"),
    ((3, True), TypeError, "hidden_size must be an int"),
    ((3, None), TypeError, "hidden_size must be an int"),
])
def test_bad_constructor_arguments(args, err, match):
    with pytest.raises(err, match=match):
        RNNCell(*args)


# ---- unroll -----------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_unroll_matches_torch_rnn(nonlinearity):
    ours, cell = _pair(nonlinearity, seed=3)
    rnn = torch.nn.RNN(3, 5, nonlinearity=nonlinearity, batch_first=True, dtype=F64)
    rnn.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(4, 7, 3, dtype=F64, requires_grad=True)
    h0 = torch.randn(4, 5, dtype=F64)
    hs, h_last = unroll(ours, x, h0)
    out, h_n = rnn(x, h0[None])
    assert hs.shape == (4, 7, 5) and h_last.shape == (4, 5)
    torch.testing.assert_close(hs, out)
    torch.testing.assert_close(h_last, h_n[0])
    torch.testing.assert_close(hs[:, -1], h_last)
    (g_ours,) = torch.autograd.grad(hs.pow(2).sum(), x)
    (g_theirs,) = torch.autograd.grad(out.pow(2).sum(), x)
    torch.testing.assert_close(g_ours, g_theirs)


def test_unroll_accepts_torch_cell_and_checks_input():
    cell = torch.nn.RNNCell(2, 3)
    hs, h = unroll(cell, torch.randn(5, 4, 2))
    assert hs.shape == (5, 4, 3) and h.shape == (5, 3)
    with pytest.raises(ValueError, match="x must have 3 dimension"):
        unroll(cell, torch.randn(4, 2))
    with pytest.raises(ValueError, match="at least one time step"):
        unroll(cell, torch.randn(5, 0, 2))
    with pytest.raises(ValueError, match="x must have 3 dimension"):
        unroll(cell, torch.tensor(0.5))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        unroll(cell, [[[1.0, 2.0]]])
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        unroll(cell, torch.ones(1, 2, 2, dtype=torch.long))


def test_unroll_with_none_state_equals_unroll_from_zeros():
    cell = RNNCell(2, 3)
    x = torch.randn(4, 6, 2)
    for a, b in zip(unroll(cell, x), unroll(cell, x, torch.zeros(4, 3))):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("ours", [True, False])
def test_unroll_handles_pair_states_of_lstm_cells(ours):
    """unroll carries a state (h, c) as well: hs holds the h's, the last state is
    the pair, and the result equals torch.nn.LSTM's."""
    torch.manual_seed(2)
    lstm = torch.nn.LSTM(3, 4, batch_first=True, dtype=F64)
    cell = (LSTMCell(3, 4) if ours else torch.nn.LSTMCell(3, 4)).double()
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = torch.randn(2, 5, 3, dtype=F64)
    hs, (h, c) = unroll(cell, x)
    out, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(hs, out)
    torch.testing.assert_close(h, h_n[0])
    torch.testing.assert_close(c, c_n[0])
    state = (torch.randn(2, 4, dtype=F64), torch.randn(2, 4, dtype=F64))
    torch.testing.assert_close(unroll(cell, x, state)[0],
                               lstm(x, tuple(s[None] for s in state))[0])


def test_unroll_in_chunks_equals_unroll_at_once():
    cell = RNNCell(3, 4)
    x = torch.randn(2, 9, 3)
    hs_a, h_mid = unroll(cell, x[:, :4])
    hs_b, _ = unroll(cell, x[:, 4:], h_mid)
    torch.testing.assert_close(torch.cat([hs_a, hs_b], 1), unroll(cell, x)[0])


# ---- RNN --------------------------------------------------------------------------

def test_rnn_module_loads_torch_state_dict_both_ways():
    torch.manual_seed(5)
    theirs = torch.nn.RNN(3, 4, batch_first=True, dtype=F64)
    ours = RNN(3, 4).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 6, 3, dtype=F64)
    h0 = torch.randn(1, 2, 4, dtype=F64)
    for a, b in zip(ours(x, h0), theirs(x, h0)):
        torch.testing.assert_close(a, b)
    for a, b in zip(ours(x), theirs(x)):
        torch.testing.assert_close(a, b)
    RNN(3, 4).double().load_state_dict(ours.state_dict())
    torch.nn.RNN(3, 4, batch_first=True).load_state_dict(ours.state_dict())


def test_rnn_module_gradients_match_torch():
    torch.manual_seed(6)
    theirs = torch.nn.RNN(2, 3, nonlinearity="relu", batch_first=True, dtype=F64)
    ours = RNN(2, 3, nonlinearity="relu").double()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 5, 2, dtype=F64)
    g_ours = torch.autograd.grad(ours(x)[0].sum(), list(ours.parameters()))
    g_theirs = torch.autograd.grad(theirs(x)[0].sum(), list(theirs.parameters()))
    for a, b in zip(g_ours, g_theirs):
        torch.testing.assert_close(a, b)


def test_rnn_module_bad_shapes():
    rnn = RNN(3, 4)
    with pytest.raises(ValueError, match="x must have size 3 in its last dimension"):
        rnn(torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="x must have 3 dimension"):
        rnn(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        rnn(torch.randn(2, 5, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match="at least one time step"):
        rnn(torch.randn(2, 0, 3))
    with pytest.raises(TypeError, match="h0 must be a torch.Tensor"):
        rnn(torch.randn(2, 5, 3), 0.0)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        rnn(None)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, "gelu")


def test_same_parameters_any_length():
    rnn = RNN(2, 3)
    for T in (1, 4, 50):
        assert rnn(torch.randn(1, T, 2))[0].shape == (1, T, 3)
    assert parameter_count(rnn) == 3 * 2 + 3 * 3 + 3 + 3


def test_rnn_step_method_is_one_step_of_forward():
    rnn = RNN(2, 3)
    x = torch.randn(4, 1, 2)
    torch.testing.assert_close(rnn(x)[0][:, 0], rnn.step(x[:, 0], torch.zeros(4, 3)))


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 4), T=st.integers(1, 6), n_in=st.integers(1, 4),
       H=st.integers(1, 5), seed=st.integers(0, 2 ** 16))
def test_rnn_agrees_with_torch_for_any_sizes(B, T, n_in, H, seed):
    torch.manual_seed(seed)
    theirs = torch.nn.RNN(n_in, H, batch_first=True, dtype=F64)
    ours = RNN(n_in, H).double()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(B, T, n_in, dtype=F64)
    out, h_n = ours(x)
    assert out.shape == (B, T, H) and h_n.shape == (1, B, H)
    torch.testing.assert_close(out, theirs(x)[0])
    assert out.abs().max() <= 1  # tanh


# ---- sequence models --------------------------------------------------------------

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


def test_language_model_embeddings_start_small():
    model = RNNLanguageModel(200, 16, 8, init_std=0.1)
    assert 0.05 < model.embedding.weight.std() < 0.15


def test_sequence_models_reject_misuse_clearly():
    with pytest.raises(ValueError, match="x must have size 4 in its last"):
        RNNTagger(4, 8, 5)(torch.randn(3, 7, 2))
    with pytest.raises(ValueError, match="x must have 3 dimension"):
        RNNTagger(4, 8, 5)(torch.randn(7, 4))


def test_last_state_model_reads_the_last_step():
    rnn = RNN(2, 4)
    model = LastStateModel(rnn, 4, 1, generator=torch.Generator().manual_seed(0))
    X, _ = first_value_recall(3, 5)
    torch.testing.assert_close(model(X), model.head(rnn(X)[0][:, -1]))
    assert model(X).shape == (3, 1)


def test_last_state_model_works_with_torch_lstm_and_is_seeded():
    def make(seed):
        g = torch.Generator().manual_seed(seed)
        return LastStateModel(torch.nn.LSTM(2, 4, batch_first=True), 4, 3, generator=g)

    a, b = make(0), make(0)
    torch.testing.assert_close(a.head.weight, b.head.weight)
    assert a.head.weight.abs().max() <= 0.5  # U(-1/sqrt(4), 1/sqrt(4))
    assert a(torch.randn(5, 6, 2)).shape == (5, 3)
    with pytest.raises(ValueError, match="hidden_size must be > 0"):
        LastStateModel(RNN(2, 4), 0, 1)
    with pytest.raises(TypeError, match="out_features must be an int"):
        LastStateModel(RNN(2, 4), 4, None)


# ---- scaled_orthogonal ------------------------------------------------------------

def test_scaled_orthogonal_has_equal_singular_values():
    W = scaled_orthogonal(6, 1.7, torch.Generator().manual_seed(0))
    expected = torch.full((6,), 1.7, dtype=F64)
    torch.testing.assert_close(torch.linalg.svdvals(W), expected)
    assert scaled_orthogonal(3, 1.0, dtype=torch.float32).dtype == torch.float32
    a = scaled_orthogonal(4, 1.0, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, scaled_orthogonal(4, 1.0,
                                                    torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("args, err", [((3, -1.0), ValueError), ((0, 1.0), ValueError),
                                       ((3, math.nan), ValueError),
                                       ((3, None), TypeError), ((2.5, 1.0), TypeError)])
def test_scaled_orthogonal_bad_arguments(args, err):
    with pytest.raises(err, match="sigma|n must"):
        scaled_orthogonal(*args)


def test_sequence_model_constructors_and_inputs_misuse():
    for cls in (PerStepMLP, RNNTagger):
        with pytest.raises(ValueError, match="output_size must be > 0"):
            cls(4, 8, 0)
        with pytest.raises(TypeError, match="hidden_size must be an int"):
            cls(4, 8.0, 2)
        with pytest.raises(ValueError, match="x must have size 4 in its last"):
            cls(4, 8, 2)(torch.randn(3, 7, 2))
        with pytest.raises(ValueError, match="x must have 3 dimension"):
            cls(4, 8, 2)(torch.randn(7, 4))
        with pytest.raises(TypeError, match="x must have a floating-point dtype"):
            cls(4, 8, 2)(torch.ones(1, 2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="vocab_size must be > 0"):
        RNNLanguageModel(0, 4, 8)
    with pytest.raises(ValueError, match="init_std"):
        RNNLanguageModel(5, 4, 8, init_std=-0.1)
    with pytest.raises(ValueError, match="init_std"):
        RNNLanguageModel(5, 4, 8, init_std=math.inf)
    model = RNNLanguageModel(5, 4, 8)
    with pytest.raises(TypeError, match=r"ids must have dtype torch.int64 or "
                                        r"torch.int32, got torch.float32"):
        model(torch.tensor([[1.0, 2.0]]))  # one-hot or float ids by mistake
    with pytest.raises(ValueError, match=r"ids must have 2 dimension\(s\), got "
                                         r"shape \(2,\)"):
        model(torch.tensor([1, 2]))  # one sequence without its batch axis
    with pytest.raises(IndexError, match="index out of range"):  # nn.Embedding's
        model(torch.tensor([[1, 5]]))


def test_last_state_model_misuse():
    with pytest.raises(TypeError, match="rnn must be an nn.Module"):
        LastStateModel(lambda x: (x, None), 4, 1)
    model = LastStateModel(RNN(2, 3), 4, 1)  # hidden_size does not match the RNN
    with pytest.raises(ValueError, match="the rnn\'s last state must have size 4"):
        model(torch.randn(2, 5, 2))
