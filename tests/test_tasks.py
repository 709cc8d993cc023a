"""Tests of the synthetic sequence tasks: every generator's layout, seeding and
misuse."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from introdl.losses import IGNORE_INDEX, sequence_accuracy, sequence_cross_entropy
from introdl.tasks import (
    delayed_echo,
    first_symbol_recall,
    first_value_recall,
    recall_task,
    reversal_alignment,
    reversal_task,
)


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


def test_no_target_steps_hold_ignore_index_and_the_sequence_loss_skips_them():
    """The tasks mark steps without a target with losses.IGNORE_INDEX (-100), and
    the sequence loss and accuracy skip exactly those steps."""
    assert IGNORE_INDEX == -100
    X, y = delayed_echo(3, seq_len=6, delay=2, seed=0)
    logits = torch.randn(3, 6, 4)
    expected = torch.nn.functional.cross_entropy(logits[:, 2:].reshape(-1, 4),
                                                 y[:, 2:].reshape(-1))
    torch.testing.assert_close(sequence_cross_entropy(logits, y), expected)


def test_loss_and_accuracy_skip_ignored_steps():
    logits = torch.tensor([[[5.0, 0.0], [0.0, 5.0], [9.0, 0.0]]])  # (1, 3, 2)
    y = torch.tensor([[0, 0, IGNORE_INDEX]])
    assert sequence_accuracy(logits, y) == 0.5
    expected = torch.nn.functional.cross_entropy(logits[0, :2], y[0, :2])
    torch.testing.assert_close(sequence_cross_entropy(logits, y), expected)
    with pytest.raises(ValueError, match=r"logits must be \(B, T, C\)"):
        sequence_cross_entropy(logits[0], y)


# ---- every generator: shapes, seeding, misuse --------------------------------------

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


def test_first_symbol_recall_noise_scale():
    X, _ = first_symbol_recall(2000, delay=3, noise_std=2.0, seed=0)
    assert abs(X[:, 1:, 4:].std().item() - 2.0) < 0.05
    X0, _ = first_symbol_recall(10, delay=3, noise_std=0.0)
    assert (X0[:, 1:] == 0).all()


def test_first_value_recall_target_is_the_marked_first_value():
    X, y = first_value_recall(20, delay=4, seed=3)
    assert X.shape == (20, 5, 2) and y.shape == (20, 1) and X.dtype == torch.float32
    torch.testing.assert_close(y[:, 0], X[:, 0, 0])
    assert (X[:, 0, 1] == 1).all() and (X[:, 1:, 1] == 0).all()
    torch.testing.assert_close(first_value_recall(20, 4, seed=3)[0], X)
    assert not torch.equal(first_value_recall(20, 4, seed=4)[0], X)


def test_reversal_task_and_alignment():
    X, y = reversal_task(30, seq_len=5, vocab_size=7, seed=2)
    assert X.shape == y.shape == (30, 5) and X.dtype == torch.int64
    assert 0 <= X.min() and X.max() < 7
    torch.testing.assert_close(y, X.flip(1))
    A = reversal_alignment(5)
    torch.testing.assert_close(y, torch.einsum("ts,ns->nt", A.long(), X))
    assert A.sum() == 5 and A[0, 4] == 1 and A.dtype == torch.float32


def test_recall_task_targets_are_the_symbols_in_order():
    X, y, k = recall_task(40, lengths=(1, 3), num_symbols=4, seed=2)
    assert X.shape == y.shape == (40, 3) and set(k.tolist()) <= {1, 3}
    for row, target, n in zip(X, y, k.tolist()):
        assert (row[:3 - n] == 4).all()  # padding first
        assert target[:n].tolist() == row[3 - n:].tolist()
        assert (target[n:] == IGNORE_INDEX).all()
    X2, _, k2 = recall_task(40, lengths=(1, 3), num_symbols=4, seed=2)
    torch.testing.assert_close(X2, X)
    assert recall_task(5, lengths=iter([2, 4]))[0].shape == (5, 4)  # an iterator


GENERATORS = [
    (delayed_echo, dict(n=4)),
    (first_symbol_recall, dict(n=4, delay=3)),
    (first_value_recall, dict(n=4, delay=3)),
    (reversal_task, dict(n=4)),
    (recall_task, dict(n=4)),
]


@pytest.mark.parametrize("task, kwargs", GENERATORS)
@pytest.mark.parametrize("bad, err, match", [
    (dict(n=0), ValueError, "n must be > 0"),
    (dict(n=2.0), TypeError, "n must be an int"),
    (dict(n=None), TypeError, "n must be an int"),
    (dict(seed=None), TypeError, "seed must be an int"),
    (dict(seed=1.5), TypeError, "seed must be an int"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
    (dict(seed=True), TypeError, "seed must be an int"),
])
def test_every_generator_rejects_bad_sizes_and_seeds(task, kwargs, bad, err, match):
    with pytest.raises(err, match=match):
        task(**{**kwargs, **bad})


@pytest.mark.parametrize("task, kwargs", GENERATORS)
def test_every_generator_is_seeded_and_leaves_the_global_rng_alone(task, kwargs):
    before = torch.random.get_rng_state()
    a, b = task(**kwargs, seed=7), task(**kwargs, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    for u, v in zip(a, b):
        assert torch.equal(u, v)


@pytest.mark.parametrize("call, err, match", [
    (lambda: first_symbol_recall(4, 0), ValueError, "delay must be > 0"),
    (lambda: first_symbol_recall(4, 3, noise_size=0), ValueError, "noise_size"),
    (lambda: first_symbol_recall(4, 3, noise_std=math.nan), ValueError, "noise_std"),
    (lambda: first_symbol_recall(4, 3, noise_std=math.inf), ValueError, "noise_std"),
    (lambda: first_symbol_recall(4, 3, noise_std=None), TypeError, "noise_std"),
    (lambda: first_value_recall(4, 0), ValueError, "delay must be > 0"),
    (lambda: reversal_task(4, seq_len=1), ValueError, "seq_len must be >= 2"),
    (lambda: reversal_task(4, vocab_size=1), ValueError, "vocab_size must be >= 2"),
    (lambda: reversal_alignment(0), ValueError, "seq_len must be > 0"),
    (lambda: reversal_alignment(2.0), TypeError, "seq_len must be an int"),
    (lambda: recall_task(4, lengths=()), ValueError, "at least one length"),
    (lambda: recall_task(4, lengths=(2, 0)), ValueError, r"lengths\[i\] must be > 0"),
    (lambda: recall_task(4, lengths=(2.5,)), TypeError, r"lengths\[i\] must be an int"),
    (lambda: recall_task(4, num_symbols=1), ValueError, "num_symbols must be >= 2"),
    (lambda: delayed_echo(4, seq_len=None), TypeError, "seq_len must be an int"),
])
def test_generator_specific_misuse(call, err, match):
    with pytest.raises(err, match=match):
        call()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 5), seq_len=st.integers(2, 8), delay=st.integers(1, 7),
       K=st.integers(2, 6), seed=st.integers(0, 2 ** 31))
def test_delayed_echo_property(n, seq_len, delay, K, seed):
    if delay >= seq_len:
        with pytest.raises(ValueError, match="seq_len must exceed"):
            delayed_echo(n, seq_len, delay, K, seed)
        return
    X, y = delayed_echo(n, seq_len, delay, K, seed)
    s = X.argmax(-1)
    assert X.shape == (n, seq_len, K) and (X.sum(-1) == 1).all()
    assert (y[:, :delay] == IGNORE_INDEX).all() and torch.equal(y[:, delay:],
                                                                s[:, :-delay])
