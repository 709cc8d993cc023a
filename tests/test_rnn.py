"""Tests of the simple recurrent cell, its unrolling and the one-layer RNN."""

import pytest
import torch

from introdl.rnn import RNN, RNNCell, rnn_step, unroll

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
    with pytest.raises(ValueError, match=r"x must have size input_size=3.*\(2, 4\)"):
        cell(torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"h must have size hidden_size=5.*\(2, 4\)"):
        cell(torch.randn(2, 3), torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"h must have shape \(2, 5\)"):
        cell(torch.randn(2, 3), torch.randn(3, 5))
    with pytest.raises(ValueError, match="x must have 1 or 2 dimension"):
        cell(torch.randn(2, 6, 3))
    with pytest.raises(TypeError, match="x must have a floating-point dtype"):
        cell(torch.ones(2, 3, dtype=torch.int64))


@pytest.mark.parametrize("args, match", [
    ((0, 5), "input_size must be > 0"),
    ((3, -1), "hidden_size must be > 0"),
    ((3, 5, "sigmoid"), "nonlinearity must be 'tanh' or 'relu'"),
])
def test_bad_constructor_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        RNNCell(*args)


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
    with pytest.raises(ValueError, match="x must have size input_size=3"):
        rnn(torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="x must have 3 dimension"):
        rnn(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        rnn(torch.randn(2, 5, 3), torch.randn(2, 4))


def test_same_parameters_any_length():
    rnn = RNN(2, 3)
    n = sum(p.numel() for p in rnn.parameters())
    for T in (1, 4, 50):
        assert rnn(torch.randn(1, T, 2))[0].shape == (1, T, 3)
    assert n == 3 * 2 + 3 * 3 + 3 + 3


def test_rnn_step_without_bias():
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    W, U = torch.randn(4, 3), torch.randn(4, 4)
    torch.testing.assert_close(rnn_step(x, h, W, U), torch.tanh(x @ W.T + h @ U.T))
