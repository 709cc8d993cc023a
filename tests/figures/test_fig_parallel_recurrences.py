"""Figures of the chapter "Recurrences that parallelise"."""

import matplotlib.patches as mpatches
import pytest

from introdl.experiments.parallel_recurrences import RecurrenceTimings
from introdl.figures.parallel_recurrences import (
    draw_scan,
    plot_recurrence_timings,
    plot_sequential_steps,
)
from introdl.figures.style import new_figure

TIMINGS = RecurrenceTimings([16, 64, 256], [1e-3, 4e-3, 1.6e-2], [1e-3, 1.5e-3, 2e-3],
                            [16, 64, 256], [4, 6, 8], 0.0)


def test_timing_and_step_panels_draw_on_given_axes():
    fig, axes = new_figure(ncols=2)
    assert plot_recurrence_timings(TIMINGS, ax=axes[0]) is fig
    assert plot_sequential_steps(TIMINGS, ax=axes[1]) is fig
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 2
    assert list(axes[0].lines[0].get_ydata()) == [1.0, 4.0, 16.0]  # milliseconds
    assert list(axes[1].lines[1].get_ydata()) == [4, 6, 8]
    assert axes[0].get_xscale() == "log" and axes[1].get_yscale() == "log"


@pytest.mark.parametrize("length", [2, 5, 8])
def test_draw_scan_has_a_node_per_position_and_round(length):
    fig, ax = new_figure()
    assert draw_scan(length, ax=ax) is fig
    rounds = (length - 1).bit_length()
    circles = [p for p in ax.patches if isinstance(p, mpatches.Circle)]
    assert len(circles) == length * (rounds + 1)
    labels = {t.get_text() for t in ax.texts}
    assert f"1:{length}" in labels  # the last node covers every step


def test_draw_scan_rejects_bad_lengths():
    with pytest.raises(ValueError, match="length"):
        draw_scan(1)
