"""Tests of the tasks of "Deep sequence modeling" and "Recurrent neural networks"."""

import pytest
import torch

from introdl.losses import IGNORE_INDEX
from introdl.tasks import delayed_echo


def test_shapes_dtypes_and_one_hot():
    X, y = delayed_echo(8, seq_len=10, delay=3, num_symbols=5, seed=0)
    assert X.shape == (8, 10, 5) and X.dtype == torch.float32
    assert y.shape == (8, 10) and y.dtype == torch.int64
    assert X.sum(-1).eq(1).all()


def test_target_is_the_symbol_delay_steps_back():
    X, y = delayed_echo(16, seq_len=12, delay=2, seed=1)
    s = X.argmax(-1)  # (n, T)
    assert (y[:, :2] == IGNORE_INDEX).all()
    torch.testing.assert_close(y[:, 2:], s[:, :-2])


def test_current_input_says_nothing_about_the_target():
    X, y = delayed_echo(4000, seq_len=6, delay=1, seed=2)
    s, labelled = X.argmax(-1)[:, 1:], y[:, 1:]
    agree = (s == labelled).float().mean().item()
    assert abs(agree - 0.25) < 0.02  # chance for 4 symbols


def test_seeded():
    a, b = delayed_echo(5, seed=3), delayed_echo(5, seed=3)
    torch.testing.assert_close(a[0], b[0])
    assert not torch.equal(a[0], delayed_echo(5, seed=4)[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n must be > 0"),
    (dict(n=2, seq_len=2, delay=2), "seq_len must exceed delay=2"),
    (dict(n=2, delay=0), "delay must be > 0"),
    (dict(n=2, num_symbols=1), "num_symbols must be >= 2"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        delayed_echo(**kwargs)
