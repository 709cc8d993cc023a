"""Experiments of the chapter "Recurrences that parallelise" (timings are
measured, never asserted)."""

import pytest
import torch

from introdl.experiments.parallel_recurrences import random_recurrence, time_recurrences


def test_random_recurrence_is_seeded_and_stable():
    a, b = random_recurrence(2, 5, 3, seed=1)
    a2, b2 = random_recurrence(2, 5, 3, seed=1)
    assert torch.equal(a, a2) and torch.equal(b, b2)
    assert a.shape == b.shape == (2, 5, 3)
    assert ((a > 0) & (a < 1)).all()


def test_time_recurrences_counts_steps_and_agrees():
    t = time_recurrences(lengths=(3, 16, 100), repeats=1, width=2)
    assert t.lengths == [3, 16, 100]
    assert t.sequential_steps == [3, 16, 100]
    assert t.parallel_steps == [2, 4, 7]
    assert len(t.sequential_seconds) == len(t.parallel_seconds) == 3
    assert all(s > 0 for s in t.sequential_seconds + t.parallel_seconds)
    assert t.max_difference < 1e-5


def test_time_recurrences_misuse():
    with pytest.raises(ValueError, match="repeats"):
        time_recurrences(lengths=(4,), repeats=0)
    with pytest.raises(ValueError, match="length"):
        time_recurrences(lengths=(0,), repeats=1)
