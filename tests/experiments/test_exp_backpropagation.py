import pytest
import torch

from introdl.autograd import Value
from introdl.experiments.backpropagation import finite_difference_errors, neuron_graph

f64 = torch.float64


def test_neuron_graph_is_the_squared_error_of_a_tanh_neuron():
    L = neuron_graph()
    expected = (torch.tanh(torch.tensor(2.0 * 0.4 - 1.0 * 0.3 + 0.2)) - 1.0) ** 2
    assert isinstance(L, Value) and L.data == pytest.approx(expected.item())
    labels = {v.label for v in L.topological_order()}
    assert {"x_1", "w_2", "b", "s", "z", r"\hat{y}", "e", "L"} <= labels


def test_finite_difference_error_is_v_shaped():
    x = torch.tensor([0.3, -1.2], dtype=f64)
    exact = torch.cos(x)
    hs = [1e-12, 1e-6, 1e-1]
    errors = finite_difference_errors(lambda t: torch.sin(t).sum(), x, exact, hs)
    assert errors[1] < errors[0] and errors[1] < errors[2]
    assert errors.dtype == f64 and errors.shape == (3,)


def test_finite_difference_errors_misuse():
    x = torch.zeros(2, dtype=f64)
    with pytest.raises(ValueError, match=r"exact must have x's shape \(2,\)"):
        finite_difference_errors(lambda t: t.sum(), x, torch.zeros(3, dtype=f64),
                                 [1e-3])
    with pytest.raises(ValueError, match="h must lie"):
        finite_difference_errors(lambda t: t.sum(), x, torch.ones(2, dtype=f64), [0.0])
    assert finite_difference_errors(lambda t: t.sum(), x, torch.ones(2, dtype=f64),
                                    iter([1e-3])).shape == (1,)
