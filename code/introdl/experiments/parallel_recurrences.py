"""Experiments of the chapter "Recurrences that parallelise": the loop against
the parallel scan, timed on this machine, and the number of sequential steps."""

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from introdl.checks import check_positive_int
from introdl.scan import linear_recurrence, parallel_linear_recurrence
from introdl.training import one_thread

__all__ = ["RecurrenceTimings", "time_recurrences", "random_recurrence"]


def random_recurrence(batch_size: int, length: int, width: int, *,
                      dtype: torch.dtype = torch.float32, seed: int = 0):
    """Random ``a`` in ``(0, 1)`` (a stable recurrence) and ``b`` of shape
    ``(batch_size, length, width)``, drawn from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.rand(batch_size, length, width, generator=gen, dtype=dtype)
    b = torch.randn(batch_size, length, width, generator=gen, dtype=dtype)
    return a, b


@dataclass
class RecurrenceTimings:
    """Median seconds and sequential steps of both ways, one entry per length."""

    lengths: list[int]
    sequential_seconds: list[float]
    parallel_seconds: list[float]
    sequential_steps: list[int]
    parallel_steps: list[int]
    max_difference: float  # largest |h_loop - h_scan| over every length


def time_recurrences(lengths: Sequence[int] = (16, 64, 256, 1024, 4096), *,
                     batch_size: int = 4, width: int = 16, repeats: int = 5,
                     seed: int = 0) -> RecurrenceTimings:
    """Time :func:`introdl.scan.linear_recurrence` and
    :func:`introdl.scan.parallel_linear_recurrence` on random inputs of each
    length (forward only, one CPU thread).

    Each time is the median of ``repeats`` runs after a warm-up; the two ways
    take turns, so that other work on the machine slows them alike.
    """
    check_positive_int("repeats", repeats)
    out = RecurrenceTimings(list(lengths), [], [], [], [], 0.0)
    with one_thread(), torch.no_grad():
        for length in lengths:
            a, b = random_recurrence(batch_size, check_positive_int("length", length),
                                     width, seed=seed)
            loop, scan = linear_recurrence(a, b), parallel_linear_recurrence(a, b)
            diff = (loop.h - scan.h).abs().max().item()
            out.max_difference = max(out.max_difference, diff)
            times = {linear_recurrence: [], parallel_linear_recurrence: []}
            for _ in range(repeats):
                for fn, ts in times.items():
                    start = time.perf_counter()
                    fn(a, b)
                    ts.append(time.perf_counter() - start)
            out.sequential_seconds.append(statistics.median(times[linear_recurrence]))
            out.parallel_seconds.append(
                statistics.median(times[parallel_linear_recurrence]))
            out.sequential_steps.append(loop.steps)
            out.parallel_steps.append(scan.steps)
    return out
