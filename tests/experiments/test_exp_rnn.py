"""Experiments of the chapter "Recurrent neural networks"."""

import pytest
import torch

from introdl.experiments.rnn import first_input_influence
from introdl.rnn import RNN, PerStepMLP


def test_first_input_influence():
    X = torch.nn.functional.one_hot(torch.randint(0, 4, (6, 5)), 4).float()
    d = first_input_influence(RNN(4, 3), X)
    assert d.shape == (5,) and (d > 0).all()
    identity_like = PerStepMLP(4, 3, 2)  # no memory: only step 0 differs
    d = first_input_influence(lambda x: (identity_like(x),), X)
    assert d[0] > 0 and torch.all(d[1:] == 0)


def test_first_input_influence_misuse():
    rnn = RNN(4, 3)
    with pytest.raises(ValueError, match="X must not be empty"):
        first_input_influence(rnn, torch.zeros(2, 0, 4))
    with pytest.raises(ValueError, match="X must not be empty"):
        first_input_influence(rnn, torch.zeros(0, 3, 4))
    with pytest.raises(ValueError, match="X must have 3 dimension"):
        first_input_influence(rnn, torch.zeros(3, 4))
    with pytest.raises(TypeError, match="X must have a floating-point dtype"):
        first_input_influence(rnn, torch.zeros(2, 3, 4, dtype=torch.long))
